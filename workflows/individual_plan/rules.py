"""The individual plan's rules that are data or pure functions: who answers an offer at which age.

Who answers the offer of an individual plan follows the consent app's age rules (consent.AgeRule,
health domain): the plan itself exists only with a consent, and the answer to the offer is the first
step of it, so the same person or guardians must give both.
"""
import datetime

from django.utils.translation import gettext as _

from consent.models import AgeRule
from consent.selectors import age_rule_for

DOMAIN = AgeRule.Domain.HEALTH
C = AgeRule.Consenter


def answer_consenter(person, on: datetime.date) -> str | None:
    """Who must answer an offer to ``person`` on ``on`` (an AgeRule.Consenter value), or None when the
    person's age is unknown or no age rule covers it."""
    rule = age_rule_for(domain=DOMAIN, age=person.age_on(on))
    return rule.consenter if rule is not None else None


def answer_problem(consenter: str | None, *, by_person: bool, guardians: list, registered_guardian_ids: set[int]) -> str | None:
    """Why an answer given by the person (``by_person``) and/or ``guardians`` is not enough under the
    age rule ``consenter``, as a translated message; None when it is."""
    if consenter is None:
        return _("The person's age is unknown or no age rule covers it: the answer cannot be recorded. Register the birth date.")
    if any(g.pk not in registered_guardian_ids for g in guardians):
        return _("Only the person's registered guardians can answer on their behalf.")
    if consenter == C.PERSON and not by_person:
        return _("At the person's age the person answers the offer themselves.")
    if consenter == C.GUARDIANS and not guardians:
        return _("At the person's age the guardians answer the offer.")
    if consenter == C.PERSON_AND_GUARDIANS and not (by_person and guardians):
        return _("At the person's age both the person and the guardians answer the offer.")
    return None
