"""The single definition of an active consent, and the age rules that decide who may give it."""
import datetime

from django.db.models import CharField, DateField, Exists, F, OuterRef, Q, Subquery, Value
from django.utils import timezone

from consent.models import AgeRule, Consent
from org.access import member_service_ids
from org.compiled import CompiledQuery
from org.paging import PAGE_SIZE, keyset_page
from people.models import Guardianship, PersonRecord
from people.selectors import guardian_named


def age_rule_for(*, domain: str, age: int | None) -> AgeRule | None:
    """The rule in force for ``domain`` at ``age``; None when the age is unknown or no rule matches."""
    if age is None:
        return None
    return (
        AgeRule.objects.filter(domain=domain, from_age__lte=age)
        .filter(Q(to_age__isnull=True) | Q(to_age__gt=age))
        .order_by("-from_age")
        .first()
    )


def _givers_entitled(consenter: str | None, *, given_by_person: bool, guardians_ok: bool) -> bool:
    """The age rule's answer: ``consenter`` is the rule in force (None: no rule, so no one may give
    it); ``guardians_ok``: guardians gave it and every one of them is registered as the person's."""
    if consenter is None:
        return False
    if consenter == AgeRule.Consenter.PERSON:
        return given_by_person
    if consenter == AgeRule.Consenter.GUARDIANS:
        return guardians_ok
    return given_by_person and guardians_ok


def consent_givers_sufficient(consent: Consent, *, on: datetime.date | None = None) -> bool:
    """Whether those who gave the consent are entitled to give it at the person's age on ``on``.

    Guardians count only if registered as the person's guardians.
    """
    on = on or timezone.localdate()
    rule = age_rule_for(domain=consent.domain, age=consent.person.age_on(on))
    if rule is None:
        return False
    guardian_ids = {g.pk for g in consent.guardians.all()}
    registered = set(Guardianship.objects.filter(child=consent.person).values_list("guardian_id", flat=True))
    guardians_ok = bool(guardian_ids) and guardian_ids <= registered
    return _givers_entitled(rule.consenter, given_by_person=consent.given_by_person, guardians_ok=guardians_ok)


def _with_givers_judged(consents, person, *, on: datetime.date):
    """``consents`` (all of ``person``) annotated with what consent_givers_sufficient reads, asked in
    the same query: the consenter of the age rule in force for each consent's domain at the
    person's age on ``on``, whether guardians gave it, and whether any of them is not registered
    as the person's guardian. ``givers_sufficient`` then judges a row without a query."""
    age = person.age_on(on)
    if age is None:
        rule = Value(None, output_field=CharField())
    else:
        rule = Subquery(
            AgeRule.objects.filter(domain=OuterRef("domain"), from_age__lte=age)
            .filter(Q(to_age__isnull=True) | Q(to_age__gt=age))
            .order_by("-from_age")
            .values("consenter")[:1]
        )
    given = Consent.guardians.through.objects.filter(consent_id=OuterRef("pk"))
    registered = Guardianship.objects.filter(child=person).values("guardian_id")
    return consents.annotate(
        givers_rule=rule, guardians_given=Exists(given), guardian_unregistered=Exists(given.exclude(person_id__in=registered)),
    )


def _givers_sufficient_judged(consent) -> bool:
    """consent_givers_sufficient for a row of ``_with_givers_judged``."""
    guardians_ok = consent.guardians_given and not consent.guardian_unregistered
    return _givers_entitled(consent.givers_rule, given_by_person=consent.given_by_person, guardians_ok=guardians_ok)


def consent_is_active(consent: Consent, *, service=None, purpose: str | None = None, on: datetime.date | None = None) -> bool:
    """Active: granted, not withdrawn, within its period, matching purpose and recipient, and given by
    someone entitled to give it at the person's age today. A row of ``givers_judged`` judged that
    day (``consent_locked_for_sharing``'s, for its service) is judged without a query."""
    on = on or timezone.localdate()
    if consent.withdrawn_at is not None:
        return False
    if consent.valid_from > on or (consent.valid_to is not None and consent.valid_to < on):
        return False
    if purpose is not None and consent.purpose != purpose:
        return False
    if service is not None:
        if getattr(consent, "granted_checked_for", None) == service.pk:
            granted = consent.granted_to_service
        else:
            granted = consent.grantees.filter(pk=service.pk).exists()
        if not granted:
            return False
    if getattr(consent, "judged_on", None) == on:  # a row of givers_judged
        return _givers_sufficient_judged(consent)
    return consent_givers_sufficient(consent, on=on)


def consent_locked_for_sharing(pk: int, *, person, service, on: datetime.date | None = None) -> Consent | None:
    """The consent ``pk`` if it is ``person``'s, locked (as consent_withdraw locks it), with what
    ``consent_is_active`` asks of it for sharing with ``service`` on ``on`` read in the same
    statement: whether it is granted to the service, and its givers judged at the stored person's
    age (givers_judged); else None. The statement is compiled once a day per process (org.compiled:
    building it took more CPU than running it, on every referral sent)."""
    found = _LOCKED_FOR_SHARING.objects(shape=on or timezone.localdate(), consent_id=pk, person_id=person.pk, service_id=service.pk)
    consent = found[0] if found else None
    if consent is not None:
        consent.granted_checked_for = service.pk
    return consent


def _locked_for_sharing(on: datetime.date, consent_id, person_id, service_id):
    granted = Consent.grantees.through.objects.filter(consent_id=OuterRef("pk"), service_id=service_id)
    return (
        givers_judged(Consent.objects.filter(pk=consent_id, person_id=person_id), on=on)
        .annotate(granted_to_service=Exists(granted))
        .select_for_update(of=("self",))
        .order_by()[:1]
    )


_LOCKED_FOR_SHARING = CompiledQuery(_locked_for_sharing, "consent_id", "person_id", "service_id")


def consent_status(consent: Consent, *, on: datetime.date | None = None, givers_sufficient: bool | None = None) -> str:
    """One of: withdrawn, expired, pending (not yet valid), insufficient (must be renewed), active.
    ``givers_sufficient``: consent_givers_sufficient's answer when the caller has it already."""
    on = on or timezone.localdate()
    if consent.withdrawn_at is not None:
        return "withdrawn"
    if consent.valid_to is not None and consent.valid_to < on:
        return "expired"
    if consent.valid_from > on:
        return "pending"
    if not (consent_givers_sufficient(consent, on=on) if givers_sufficient is None else givers_sufficient):
        return "insufficient"
    return "active"


class AgeRules:
    """The age rules read once (one query; the table holds a few dozen rows), for judging many
    consents without a query each. ``rule_for`` answers as ``age_rule_for`` does."""

    def __init__(self):
        self.rules = list(AgeRule.objects.order_by("-from_age", "pk"))

    def rule_for(self, *, domain: str, age: int | None) -> AgeRule | None:
        if age is None:
            return None
        for rule in self.rules:
            if rule.domain == domain and rule.from_age <= age and (rule.to_age is None or rule.to_age > age):
                return rule
        return None


def _person_age_on(on: datetime.date):
    """``Person.age_on(on)`` of a consent's person as an SQL expression: whole years from the birth
    date, else the approximate age, else NULL."""
    from django.db.models import Case, F, IntegerField, When
    from django.db.models.functions import ExtractYear

    birthday_ahead = Q(person__birth_date__month__gt=on.month) | Q(person__birth_date__month=on.month, person__birth_date__day__gt=on.day)
    return Case(
        When(
            person__birth_date__isnull=False,
            then=Value(on.year) - ExtractYear("person__birth_date") - Case(When(birthday_ahead, then=Value(1)), default=Value(0)),
        ),
        default=F("person__approx_age"),
        output_field=IntegerField(),
    )


def givers_judged(consents, *, on: datetime.date):
    """The queryset ``consents`` (any persons') annotated with what ``consent_givers_sufficient``
    reads on ``on``, asked in the consents' own query: the consenter of the age rule in force for
    each consent's domain at its person's age, whether guardians gave it and whether any of them is
    not registered as the person's guardian; ``judged_on`` is ``on``. ``judged_status`` then judges
    a row without a query."""
    given = Consent.guardians.through.objects.filter(consent_id=OuterRef("pk"))
    registered = Guardianship.objects.filter(child_id=OuterRef(OuterRef("person_id"))).values("guardian_id")
    rule = (
        AgeRule.objects.filter(domain=OuterRef("domain"), from_age__lte=OuterRef("judged_age"))
        .filter(Q(to_age__isnull=True) | Q(to_age__gt=OuterRef("judged_age")))
        .order_by("-from_age")
        .values("consenter")[:1]
    )
    return consents.annotate(judged_age=_person_age_on(on), judged_on=Value(on, output_field=DateField())).annotate(
        givers_rule=Subquery(rule), guardians_given=Exists(given), guardian_unregistered=Exists(given.exclude(person_id__in=registered)),
    )


def judged_status(consent) -> str:
    """``consent_status`` of a row of ``givers_judged``, on the day it was judged, without a query."""
    return consent_status(consent, on=consent.judged_on, givers_sufficient=_givers_sufficient_judged(consent))


def consents_judged(consents, *, on: datetime.date | None = None, limit: int | None = None) -> list[Consent]:
    """The consents of the queryset ``consents`` (any persons'), each with ``status`` set as
    ``consent_status`` judges it on ``on``, in one query whatever their number (``givers_judged``);
    the first ``limit`` of them in the queryset's order if given.
    Each consent's ``person`` should be loaded (select_related) for the page's use."""
    judged = givers_judged(consents, on=on or timezone.localdate())
    consents = list(judged[:limit] if limit is not None else judged)
    for consent in consents:
        consent.status = judged_status(consent)
    return consents


def consents_in_force_for(consent_ids, service_ids, *, purpose: str, on: datetime.date | None = None) -> set[tuple[int, int]]:
    """consent_is_active for many (consent, service) pairs at once: (consent pk, service pk) for each
    of ``consent_ids`` active on ``on`` (default today) for ``purpose`` and granted to one of
    ``service_ids``. One query whatever their number: a row per consent and grantee among
    ``service_ids``, the givers judged in it (consents_judged)."""
    granted = (Consent.objects.filter(pk__in=set(consent_ids), purpose=purpose, grantees__in=set(service_ids))
               .annotate(granted_to=F("grantees")).select_related("person"))
    return {(c.pk, c.granted_to) for c in consents_judged(granted, on=on) if c.status == "active"}


def consents_for_page(*, on: datetime.date):
    """Consents with what a consent's own page shows read in their own query: the givers judged on
    ``on`` (``givers_judged``) and the person's name as the recording service registered it
    (``person_given``, ``person_family``: people.selectors.person_record_for's record)."""
    record = PersonRecord.objects.filter(person_id=OuterRef("person_id"), service_id=OuterRef("recorded_by_service_id"))
    return givers_judged(Consent.objects.all(), on=on).annotate(
        person_given=Subquery(record.values("given_name")[:1]), person_family=Subquery(record.values("family_name")[:1]),
    )


def guardians_named(consent: Consent) -> list:
    """The guardians who gave ``consent``, each with ``label``: the name the recording service
    registered, else "Registered guardian n" in this order (people.selectors.guardian_label), in
    one query whatever their number."""
    record = PersonRecord.objects.filter(person_id=OuterRef("pk"), service_id=consent.recorded_by_service_id)
    guardians = list(
        consent.guardians.annotate(record_given=Subquery(record.values("given_name")[:1]), record_family=Subquery(record.values("family_name")[:1]))
    )
    for number, guardian in enumerate(guardians, start=1):
        name = f"{guardian.record_given or ''} {guardian.record_family or ''}".strip()
        guardian.label = guardian_named(name, number)
    return guardians


def active_consents_for(person, *, service=None, purpose: str | None = None):
    """The person's consents active now for ``service`` and ``purpose`` (evaluated row by row)."""
    qs = Consent.objects.filter(person=person, withdrawn_at__isnull=True).prefetch_related("guardians", "grantees")
    if purpose:
        qs = qs.filter(purpose=purpose)
    if service is not None:
        qs = qs.filter(grantees=service)
    return [c for c in qs if consent_is_active(c, service=service, purpose=purpose)]


def active_referral_consents_recorded_by(person, service):
    """The person's consents for referral, active now, that ``service`` recorded: the ones its staff
    may choose as the basis of a referral (a queryset, for a form's choices)."""
    active = active_consents_for(person, purpose=Consent.Purpose.REFERRAL)
    return (
        Consent.objects.filter(pk__in=[c.pk for c in active], recorded_by_service=service)
        .prefetch_related("grantees")
        .order_by("-recorded_at")
    )


def legal_basis_problem(legal_basis, *, from_service, to_service, purpose: str | None, on: datetime.date | None = None) -> str | None:
    """Why ``legal_basis`` does not allow this disclosure (a translated sentence), or None if it does.

    The basis must exist, be active and in its validity period, permit ``purpose`` (a
    Consent.Purpose value; None skips that check, for a re-check at approval) and the kinds of the
    sending and the receiving service.
    """
    from django.utils.translation import gettext as _

    on = on or timezone.localdate()
    if legal_basis is None:
        return _("Choose the statutory basis for this disclosure from the list of legal bases.")
    name = legal_basis.reference
    if not legal_basis.active or (legal_basis.valid_from and legal_basis.valid_from > on) or (legal_basis.valid_to and legal_basis.valid_to < on):
        return _("The legal basis “%(basis)s” is not in force.") % {"basis": name}
    if purpose is not None and purpose not in (legal_basis.purposes or []):
        return _("The legal basis “%(basis)s” does not permit sharing for this purpose.") % {"basis": name}
    if legal_basis.sender_kinds and from_service.kind not in legal_basis.sender_kinds:
        return _("The legal basis “%(basis)s” does not apply to %(service)s as the sender.") % {"basis": name, "service": from_service.name}
    if to_service.kind not in (legal_basis.recipient_kinds or []):
        return _("The legal basis “%(basis)s” does not permit sharing with %(service)s.") % {"basis": name, "service": to_service.name}
    return None


def legal_bases_for(*, purpose: str, from_service=None, to_service=None, approval: bool | None = None, on: datetime.date | None = None):
    """The legal bases in force that permit ``purpose`` from ``from_service`` (and to ``to_service``
    when the recipient is known): a queryset for a form's choices.

    ``approval=False`` leaves out the bases that need a leader's approval. The catalogue is small,
    and JSON-list lookups differ between databases, so the lists are matched in Python.
    """
    from consent.models import LegalBasis

    on = on or timezone.localdate()
    rows = LegalBasis.objects.filter(active=True).filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on)).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on)
    )
    if approval is not None:
        rows = rows.filter(requires_approval=approval)
    ids = [
        b.pk for b in rows
        if purpose in (b.purposes or [])
        and (from_service is None or not b.sender_kinds or from_service.kind in b.sender_kinds)
        and (to_service is None or to_service.kind in (b.recipient_kinds or []))
    ]
    return LegalBasis.objects.filter(pk__in=ids).order_by("statute", "paragraph", "code")


def disclosures_pending_approval(user):
    """Disclosures awaiting approval by a leader of the sending service: those of the services
    ``user`` leads, oldest first (a short queue; each row carries its services and basis)."""
    from consent.models import Disclosure
    from org.access import active_memberships
    from org.models import Membership

    led = active_memberships(user, role=Membership.Role.LEADER).values("service_id")
    return (
        Disclosure.objects.filter(status=Disclosure.Status.PENDING, from_service__in=led)
        .select_related("from_service", "to_service", "legal_basis", "disclosed_by", "subject_type")
        .order_by("disclosed_at", "pk")
    )


def disclosures_pending_with_subjects(user) -> list:
    """``disclosures_pending_approval(user)`` with each row's ``subject`` (the object to be shared)
    attached, one query per kind of object."""
    rows = list(disclosures_pending_approval(user))
    by_type: dict = {}
    for row in rows:
        by_type.setdefault(row.subject_type, []).append(row)
    for ctype, group in by_type.items():
        objects = ctype.model_class()._base_manager.in_bulk([r.subject_id for r in group])
        for row in group:
            row.subject = objects.get(row.subject_id)
    return rows


def disclosure_pending_get_for_leader(user, pk):
    """The pending disclosure ``pk`` if ``user`` leads its sending service; else Http404 (missing,
    decided and forbidden alike)."""
    from django.http import Http404

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    found = disclosures_pending_approval(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def disclosure_awaits_approval(obj) -> bool:
    """Whether a disclosure of ``obj`` waits for a leader's approval (nothing delivered yet)."""
    from django.contrib.contenttypes.models import ContentType

    from consent.models import Disclosure

    return Disclosure.objects.filter(
        subject_type=ContentType.objects.get_for_model(obj), subject_id=obj.pk, status=Disclosure.Status.PENDING,
    ).exists()


def disclosure_pending_count(user) -> int:
    """How many disclosures wait for ``user``'s approval (the menu badge)."""
    return disclosures_pending_approval(user).count()


def disclosures_of(obj):
    """The ledger rows of every disclosure of ``obj``, oldest first, revoked ones included."""
    from django.contrib.contenttypes.models import ContentType

    from consent.models import Disclosure

    return (
        Disclosure.objects.filter(subject_type=ContentType.objects.get_for_model(obj), subject_id=obj.pk)
        .select_related("to_service", "consent")
        .order_by("disclosed_at", "pk")
    )


def _years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day ``years`` earlier; 28 February for 29 February in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return datetime.date(day.year - years, 2, 28)


def consents_needing_renewal(*, on: datetime.date | None = None):
    """Guardian-only consents of persons aged 15–18 today that are no longer sufficient."""
    on = on or timezone.localdate()
    oldest = _years_before(on, 19)
    youngest = _years_before(on, 15)
    qs = (
        Consent.objects.filter(
            withdrawn_at__isnull=True, given_by_person=False, valid_from__lte=on,
            person__birth_date__gt=oldest, person__birth_date__lte=youngest,
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .select_related("person", "recorded_by_service")
        .prefetch_related("guardians")
    )
    return [c for c in qs if not consent_givers_sufficient(c, on=on)]


# --- lists for the consent pages ---------------------------------------------------------------

def consents_recorded_list(user, *, cursor: str | None = None, page_size: int = PAGE_SIZE):
    """Consents the user's services are responsible for, newest first, by keyset.

    Returns ``(rows, next_cursor)``; rows carry no status (that needs the age rules per row, so
    only the detail and the person's page show it, keeping this list at a constant query count).
    """
    qs = (
        Consent.objects.filter(recorded_by_service__in=member_service_ids(user))
        .select_related("recorded_by_service")
        .only("code", "purpose", "domain", "valid_from", "valid_to", "withdrawn_at", "recorded_at", "recorded_by_service__name")
    )
    return keyset_page(qs, "recorded_at", cursor, descending=True, page_size=page_size)


def person_consents_for_user(user, person, *, on: datetime.date | None = None) -> list[Consent]:
    """The person's consents that the user's services recorded, or on which something was actually
    disclosed to them (a live ledger row in force), each with ``status`` and ``manageable`` (the
    user's service is responsible for it) set. Being named as a grantee alone shows nothing: that
    is a permission to share, not a disclosure.

    Two queries whatever the number of consents: the consents with their service and what the age
    rule needs (``_with_givers_judged``), and their grantees."""
    on = on or timezone.localdate()
    return _person_consents_judged(user, person, list(_person_consents(user, person, on=on).order_by("-recorded_at", "-pk")), on=on)


def person_consents_page(user, person, *, cursor: str | None = None, on: datetime.date | None = None,
                         page_size: int = PAGE_SIZE) -> tuple[list[Consent], str | None]:
    """One page of person_consents_for_user, newest recorded first, after ``cursor``: (consents, next
    cursor or None). The person's page lists them by keyset: a person can gather consents for years."""
    on = on or timezone.localdate()
    rows, next_cursor = keyset_page(_person_consents(user, person, on=on), "recorded_at", cursor, descending=True, page_size=page_size)
    return _person_consents_judged(user, person, rows, on=on), next_cursor


def _person_consents(user, person, *, on: datetime.date):
    from consent.models import Disclosure

    service_ids = set(member_service_ids(user))
    received = Disclosure.objects.filter(
        person=person, to_service_id__in=service_ids, revoked_at__isnull=True, status=Disclosure.Status.IN_FORCE,
        consent__isnull=False,
    ).values("consent_id")
    mine = Consent.objects.filter(person=person).filter(Q(recorded_by_service_id__in=service_ids) | Q(pk__in=received))
    return _with_givers_judged(mine, person, on=on).select_related("recorded_by_service").prefetch_related("grantees")


def _person_consents_judged(user, person, consents: list, *, on: datetime.date) -> list[Consent]:
    service_ids = set(member_service_ids(user))
    for consent in consents:
        consent.person = person  # every consent here is the person's: no query for it per row
        consent.status = consent_status(consent, on=on, givers_sufficient=_givers_sufficient_judged(consent))
        consent.manageable = consent.recorded_by_service_id in service_ids
    return consents


def reconsent_tasks_list(user, *, include_done: bool = False, cursor: str | None = None, page_size: int = PAGE_SIZE):
    """Re-consent tasks of the user's services, oldest open first (or all, newest first).

    Tasks of a consent withdrawn since are not open work. Returns ``(rows, next_cursor)``.
    """
    from consent.models import ReconsentTask

    qs = ReconsentTask.objects.filter(responsible_service__in=member_service_ids(user)).select_related(
        "consent", "responsible_service"
    )
    if include_done:
        return keyset_page(qs, "created_at", cursor, descending=True, page_size=page_size)
    qs = qs.filter(done_at__isnull=True, consent__withdrawn_at__isnull=True)
    return keyset_page(qs, "created_at", cursor, descending=False, page_size=page_size)
