"""The youth contract's age and party rules, as pure functions of a template and dates.

No database: a template row (or any object with its fields) and dates in, an answer out, so each
rule is tested on the exact birthdays. Ages are whole years (people.validators.age_on): a person is
15 from their 15th birthday, and 18 — too old for the police variant — on their 18th.
"""
import datetime

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext as _

from people.validators import age_on

YOUNG_PERSON, GUARDIAN, POLICE, FOLLOWUP = "young_person", "guardian", "police", "followup"


def eligibility_day(template, *, police_decision_on: datetime.date | None, starts_on: datetime.date) -> datetime.date:
    """The day the age rule is applied on: the police decision for the police variant, else the start."""
    if template.variant == "police" and police_decision_on is not None:
        return police_decision_on
    return starts_on


def eligibility_problem(template, *, birth_date: datetime.date | None, on: datetime.date) -> str | None:
    """Why a person born on ``birth_date`` cannot have a contract of ``template`` on ``on`` (a
    translated sentence), or None when they can. An unknown birth date is refused: the age limits
    are the law's (police variant) or the municipality's, and cannot be guessed."""
    if birth_date is None:
        return _("The young person's birth date is needed to check the age limits of this contract.")
    if birth_date > on:
        return _("The birth date lies after the contract's date.")
    age = age_on(birth_date, on)
    if template.min_age is not None and age < template.min_age:
        return _("This contract is for ages %(min)s to %(max)s; on %(day)s the young person is %(age)s.") % {
            "min": template.min_age, "max": template.max_age, "day": on.isoformat(), "age": age,
        }
    if age > template.max_age:
        if template.min_age is None:
            return _("This contract is for ages up to and including %(max)s; on %(day)s the young person is %(age)s.") % {
                "max": template.max_age, "day": on.isoformat(), "age": age,
            }
        return _("This contract is for ages %(min)s to %(max)s; on %(day)s the young person is %(age)s.") % {
            "min": template.min_age, "max": template.max_age, "day": on.isoformat(), "age": age,
        }
    return None


def guardians_must_sign(template, *, birth_date: datetime.date, on: datetime.date) -> bool:
    """Whether the guardians are required parties: while the young person is under the template's
    ``guardians_sign_under_age`` (18) on the eligibility day."""
    return age_on(birth_date, on) < template.guardians_sign_under_age


def required_roles(template, *, birth_date: datetime.date, on: datetime.date) -> tuple[str, ...]:
    """The party roles that must sign, in signing order: the young person always; the guardians
    while under age; the police for a template they sign; the follow-up service if it signs."""
    roles = [YOUNG_PERSON]
    if guardians_must_sign(template, birth_date=birth_date, on=on):
        roles.append(GUARDIAN)
    if template.police_signs:
        roles.append(POLICE)
    if template.followup_signs:
        roles.append(FOLLOWUP)
    return tuple(roles)


def duration_problem(template, *, starts_on: datetime.date, ends_on: datetime.date) -> str | None:
    """Why the period is not allowed (reversed, or longer than the template's maximum), or None."""
    if ends_on < starts_on:
        return _("The contract's end date must be on or after its start date.")
    if ends_on > starts_on + relativedelta(months=template.max_months):
        return _("This contract may last at most %(months)s months.") % {"months": template.max_months}
    return None
