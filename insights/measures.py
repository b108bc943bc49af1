"""The writes of a substance-policy plan and its measures (issue 11, point 6).

Who writes (each service checks it; the pages reach it through insights.measure_selectors):
- the staff of the plan's owner service (an SLT service) set the plan up, change it, and add and
  change its measures; they may also record an evaluation;
- the staff of a measure's responsible service record its yearly evaluation.

Every write is one transaction, refused with a translated ValidationError by field and nothing
changed: a period out of order, a number the plan has already, a stale form (the measure's
``version``), a year evaluated twice, text that looks like an identity number (a measure holds no
person).

Grants and reminders follow the measure in the same transaction: its responsible service's group
holds POLICY_MEASURE_RESPONSIBLE on it and each co-responsible service's group
POLICY_MEASURE_CO_RESPONSIBLE (org.permissions, the only place that grants); the responsible
service's staff are reminded REMIND_DAYS_BEFORE days before the measure's evaluation day of every
year still to be evaluated (``evaluation_years``; all are written at once, so a year missed does not
silence the next), a reminder the sweep delivers only while the service still holds its grant. An
evaluation cancels that year's reminder (next year's stays); a measure done or dropped has none.
"""
import datetime
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from insights.models import Coverage, MeasureEvaluation, PolicyMeasure, PolicyPlan
from notifications.models import Reminder
from notifications.services import reminder_cancel, reminder_row, reminders_restore, system_text
from org.access import is_member
from org.models import Service
from org.permissions import POLICY_MEASURE_CO_RESPONSIBLE, POLICY_MEASURE_RESPONSIBLE, grant_to_service, revoke_from_service
from people.validators import MEDIUM_TEXT, SHORT_TEXT, contains_national_id, text_limits

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_PLAN_YEARS = 12
REMIND_DAYS_BEFORE = 14
REMIND_HOUR = 8
NUMBER_PATTERN = re.compile(r"^[0-9]{1,4}(?:[.\-]?[0-9A-Za-z]{1,4})?$")
REMINDER_TOPIC = gettext_noop("Yearly evaluation of a plan measure")
S = PolicyMeasure.Status


def _errors():
    errors: dict[str, list] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    return errors, add


def _raise(errors) -> None:
    if errors:
        raise ValidationError(errors)


def _no_identity_numbers(add, **texts) -> None:
    for field, value in texts.items():
        if value and contains_national_id(value):
            add(field, _("A plan measure holds no personal data: remove what looks like a national identity number."))


def _stale():
    return ValidationError(
        _("Someone else has changed the measure since you opened it. Nothing is saved: open it again and make your change anew."),
        code="stale",
    )


# --- plans --------------------------------------------------------------------------------------


def owner_covers(service: Service, municipality_id: int) -> bool:
    """Whether the SLT ``service`` may keep a plan for the municipality: its own, or one it covers."""
    return service.municipality_id == municipality_id or Coverage.objects.filter(service=service, municipality_id=municipality_id).exists()


def _plan_errors(add, *, title, from_year, to_year) -> None:
    if not (title or "").strip():
        add("title", _("Give the plan a title."))
    for field, year in (("from_year", from_year), ("to_year", to_year)):
        if year is None:
            add(field, _("Give the year."))
        elif not MIN_YEAR <= year <= MAX_YEAR:
            add(field, _("Give a year between %(min)s and %(max)s.") % {"min": MIN_YEAR, "max": MAX_YEAR})
    if from_year is not None and to_year is not None:
        if to_year < from_year:
            add("to_year", _("The plan period must end in or after the year it starts."))
        elif to_year - from_year + 1 > MAX_PLAN_YEARS:
            add("to_year", _("A plan period is at most %(years)s years.") % {"years": MAX_PLAN_YEARS})
    _no_identity_numbers(add, title=title)


@transaction.atomic
def policy_plan_create(*, user, municipality, owner_service: Service, title: str, from_year: int | None, to_year: int | None) -> PolicyPlan:
    """Set up a plan for ``municipality``, kept by ``owner_service`` (an SLT service the user is staff
    of, whose own municipality or one it covers it is). Refused (translated, by field) for a period
    out of order or too long, no title, or an owner the user may not act for."""
    errors, add = _errors()
    if owner_service is None or owner_service.kind != Service.Kind.SLT or not is_member(user, owner_service):
        add("owner_service", _("Choose an SLT service you work in."))
    elif municipality is None or not owner_covers(owner_service, municipality.pk):
        add("municipality", _("The SLT service does not cover this municipality."))
    _plan_errors(add, title=title, from_year=from_year, to_year=to_year)
    _raise(errors)
    text_limits(title=(title, 200))
    return PolicyPlan.objects.create(municipality=municipality, owner_service=owner_service, title=title.strip(),
                                     from_year=from_year, to_year=to_year, created_by=user)


def _require_owner(user, plan: PolicyPlan) -> None:
    if not is_member(user, plan.owner_service):
        raise ValidationError(_("Only the staff of the plan's SLT service change the plan and its measures."), code="not_owner")


@transaction.atomic
def policy_plan_update(*, user, plan: PolicyPlan, title: str, from_year: int | None, to_year: int | None) -> PolicyPlan:
    """Change the plan's title and period, by its owner's staff. Refused as ``policy_plan_create``,
    and for a period that would leave out a year some measure is evaluated for. The measures'
    reminders follow the new period."""
    plan = PolicyPlan.objects.select_for_update().select_related("owner_service").get(pk=plan.pk)
    _require_owner(user, plan)
    errors, add = _errors()
    _plan_errors(add, title=title, from_year=from_year, to_year=to_year)
    if not errors and MeasureEvaluation.objects.filter(measure__plan=plan).exclude(year__range=(from_year, to_year)).exists():
        add("from_year", _("Some measures are evaluated for years outside this period."))
    _raise(errors)
    text_limits(title=(title, 200))
    plan.title, plan.from_year, plan.to_year = title.strip(), from_year, to_year
    plan.save(update_fields=["title", "from_year", "to_year"])
    for measure in plan.measures.select_related("responsible_service").select_for_update(of=("self",)):
        measure.plan = plan
        _reminders_refresh(measure)
    return plan


# --- measures -----------------------------------------------------------------------------------


def _measure_errors(add, *, plan, number, text, theme, partners, responsible_service, co_responsible, evaluation_month,
                    evaluation_day, status, exclude_pk=None) -> None:
    number = (number or "").strip()
    if not number:
        add("number", _("Give the measure's number."))
    elif not NUMBER_PATTERN.match(number):
        add("number", _("A number is digits, optionally followed by a letter or a sub-number, for example “2”, “2a” or “2.1”."))
    elif PolicyMeasure.objects.filter(plan=plan, number__iexact=number).exclude(pk=exclude_pk).exists():
        add("number", _("The plan already has a measure %(number)s.") % {"number": number})
    if not (text or "").strip():
        add("text", _("Describe the measure."))
    if responsible_service is None:
        add("responsible_service", _("Choose the responsible service."))
    elif responsible_service.municipality_id != plan.municipality_id or not responsible_service.active:
        add("responsible_service", _("Choose an active service of the plan's municipality."))
    if any(s.municipality_id != plan.municipality_id or not s.active for s in co_responsible):
        add("co_responsible", _("Choose active services of the plan's municipality."))
    if status not in S.values:
        add("status", _("Choose a status from the list."))
    try:
        datetime.date(2001, evaluation_month, evaluation_day)  # a year without 29 February: a day every year has
    except (TypeError, ValueError):
        add("evaluation_day", _("Give a day and month every year has (not 29 February)."))
    _no_identity_numbers(add, text=text, theme=theme, partners=partners)


def _texts_limits(*, text, theme, partners) -> None:
    text_limits(text=(text, MEDIUM_TEXT), theme=(theme, 120), partners=(partners, 300))


@transaction.atomic
def measure_create(*, user, plan: PolicyPlan, number: str, text: str, responsible_service: Service, co_responsible=(),
                   theme: str = "", partners: str = "", status: str = S.NOT_STARTED,
                   evaluation_month: int | None = None, evaluation_day: int | None = None) -> PolicyMeasure:
    """Add a measure to the plan, by the owner's staff: the services' grants and the responsible
    service's reminder of its first evaluation are written with it. The evaluation day defaults to
    the model's (early December). A co-responsible service that is the responsible one is left out.
    Refused (translated, by field) for a number the plan has, no text, a service outside the plan's
    municipality, an impossible day, or an identity number in the text."""
    plan = PolicyPlan.objects.select_for_update().select_related("owner_service").get(pk=plan.pk)
    _require_owner(user, plan)
    month = evaluation_month if evaluation_month is not None else PolicyMeasure._meta.get_field("evaluation_month").default
    day = evaluation_day if evaluation_day is not None else PolicyMeasure._meta.get_field("evaluation_day").default
    co_responsible = [s for s in co_responsible if responsible_service is None or s.pk != responsible_service.pk]
    errors, add = _errors()
    _measure_errors(add, plan=plan, number=number, text=text, theme=theme, partners=partners, responsible_service=responsible_service,
                    co_responsible=co_responsible, evaluation_month=month, evaluation_day=day, status=status)
    _raise(errors)
    _texts_limits(text=text, theme=theme, partners=partners)
    try:
        with transaction.atomic():
            measure = PolicyMeasure.objects.create(
                plan=plan, number=number.strip(), text=text.strip(), theme=(theme or "").strip(), partners=(partners or "").strip(),
                responsible_service=responsible_service, status=status, evaluation_month=month, evaluation_day=day,
            )
    except IntegrityError:  # the same number, added at the same moment by someone else
        raise ValidationError({"number": _("The plan already has a measure %(number)s.") % {"number": number.strip()}})
    measure.co_responsible.set(co_responsible)
    grant_to_service(perm=POLICY_MEASURE_RESPONSIBLE, obj=measure, service=responsible_service)
    for service in co_responsible:
        grant_to_service(perm=POLICY_MEASURE_CO_RESPONSIBLE, obj=measure, service=service)
    _reminders_refresh(measure)
    return measure


def _lock_measure(measure: PolicyMeasure, version: int | None) -> PolicyMeasure:
    """The measure's row, locked, with its plan; refused as stale when it is no longer at ``version``."""
    locked = PolicyMeasure.objects.select_for_update(of=("self",)).select_related("plan", "plan__owner_service", "responsible_service").get(
        pk=measure.pk)
    if version is None or int(version) != locked.version:
        raise _stale()
    return locked


@transaction.atomic
def measure_update(*, user, measure: PolicyMeasure, version: int | None, number: str, text: str, responsible_service: Service,
                   co_responsible=(), theme: str = "", partners: str = "", status: str,
                   evaluation_month: int, evaluation_day: int) -> PolicyMeasure:
    """Change a measure, by the plan owner's staff, from a form that showed ``version`` (refused as
    stale otherwise: someone else changed it meanwhile). A new responsible or co-responsible service
    takes over the grant (the one it replaces loses it) and the reminder; a measure done or dropped
    has its reminder cancelled, one opened again gets it back. Refused as ``measure_create``."""
    measure = _lock_measure(measure, version)
    plan = measure.plan
    _require_owner(user, plan)
    co_responsible = [s for s in co_responsible if responsible_service is None or s.pk != responsible_service.pk]
    errors, add = _errors()
    _measure_errors(add, plan=plan, number=number, text=text, theme=theme, partners=partners, responsible_service=responsible_service,
                    co_responsible=co_responsible, evaluation_month=evaluation_month, evaluation_day=evaluation_day, status=status,
                    exclude_pk=measure.pk)
    _raise(errors)
    _texts_limits(text=text, theme=theme, partners=partners)
    old_responsible = measure.responsible_service
    old_co = {s.pk: s for s in measure.co_responsible.all()}
    measure.number, measure.text = number.strip(), text.strip()
    measure.theme, measure.partners = (theme or "").strip(), (partners or "").strip()
    measure.responsible_service, measure.status = responsible_service, status
    measure.evaluation_month, measure.evaluation_day = evaluation_month, evaluation_day
    measure.version += 1
    try:
        with transaction.atomic():
            measure.save(update_fields=["number", "text", "theme", "partners", "responsible_service", "status", "evaluation_month",
                                        "evaluation_day", "version", "updated_at"])
    except IntegrityError:
        raise ValidationError({"number": _("The plan already has a measure %(number)s.") % {"number": number.strip()}})
    new_co = {s.pk: s for s in co_responsible}
    measure.co_responsible.set(co_responsible)
    if old_responsible.pk != responsible_service.pk:
        revoke_from_service(perm=POLICY_MEASURE_RESPONSIBLE, obj=measure, service=old_responsible)
        grant_to_service(perm=POLICY_MEASURE_RESPONSIBLE, obj=measure, service=responsible_service)
    for pk in old_co.keys() - new_co.keys():
        revoke_from_service(perm=POLICY_MEASURE_CO_RESPONSIBLE, obj=measure, service=old_co[pk])
    for pk in new_co.keys() - old_co.keys():
        grant_to_service(perm=POLICY_MEASURE_CO_RESPONSIBLE, obj=measure, service=new_co[pk])
    _reminders_refresh(measure)
    return measure


@transaction.atomic
def measure_evaluate(*, user, measure: PolicyMeasure, version: int | None, year: int | None, status: str, text: str) -> MeasureEvaluation:
    """Record the measure's evaluation for ``year``, by the staff of its responsible service (or of
    the plan's owner, for the responsible service), from a form that showed ``version``. The
    measure takes the evaluation's status; that year's reminder is cancelled and the following years'
    kept (none once the measure is done or dropped). Refused
    (translated, by field) for a stale form, a year outside the plan period or still to come, a
    year evaluated already, no text, or an identity number in it."""
    measure = _lock_measure(measure, version)
    plan = measure.plan
    if is_member(user, measure.responsible_service):
        service = measure.responsible_service
    elif is_member(user, plan.owner_service):
        service = plan.owner_service
    else:
        raise ValidationError(_("Only the responsible service or the plan's SLT service records the evaluation."), code="not_responsible")
    errors, add = _errors()
    this_year = timezone.localdate().year
    if year is None or not plan.from_year <= year <= plan.to_year:
        add("year", _("Choose a year of the plan period (%(period)s).") % {"period": plan.period})
    elif year > this_year:
        add("year", _("A year still to come cannot be evaluated."))
    elif measure.evaluations.filter(year=year).exists():
        add("year", _("The measure already has an evaluation for %(year)s.") % {"year": year})
    if status not in S.values:
        add("status", _("Choose a status from the list."))
    if not (text or "").strip():
        add("text", _("Write what was done and how it went."))
    _no_identity_numbers(add, text=text)
    _raise(errors)
    text_limits(text=(text, SHORT_TEXT))
    evaluation = MeasureEvaluation.objects.create(measure=measure, year=year, status=status, text=text.strip(), service=service,
                                                  evaluated_by=user, evaluated_at=timezone.now())
    measure.status = status
    measure.version += 1
    measure.save(update_fields=["status", "version", "updated_at"])
    _reminders_refresh(measure)
    return evaluation


# --- reminders ----------------------------------------------------------------------------------


def obligation(measure: PolicyMeasure) -> str:
    """The obligation every evaluation reminder of the measure is filed under (cancelled together)."""
    return f"insights:measure:{measure.pk}:evaluation"


def evaluation_years(measure: PolicyMeasure, *, today: datetime.date | None = None) -> list[int]:
    """The years of the plan period the measure is still to be evaluated for and reminded of: not
    evaluated yet, and whose evaluation day is ``today`` or later (a year whose day has passed was
    reminded of then, or the measure came after it). None once the measure is done or dropped."""
    if measure.is_closed:
        return []
    today = today or timezone.localdate()
    evaluated = set(measure.evaluations.values_list("year", flat=True))
    return [year for year in range(measure.plan.from_year, measure.plan.to_year + 1)
            if year not in evaluated and measure.evaluation_date(year) >= today]


def next_evaluation_year(measure: PolicyMeasure, *, today: datetime.date | None = None) -> int | None:
    """The next year the measure is to be evaluated for (``evaluation_years``), or None."""
    years = evaluation_years(measure, today=today)
    return years[0] if years else None


def reminder_due(measure: PolicyMeasure, year: int) -> tuple[datetime.datetime, datetime.datetime]:
    """(when the reminder is due, the deadline): REMIND_DAYS_BEFORE days before the evaluation day at
    REMIND_HOUR local time, and the end of the evaluation day."""
    zone = timezone.get_current_timezone()
    day = measure.evaluation_date(year)
    remind = datetime.datetime.combine(day - datetime.timedelta(days=REMIND_DAYS_BEFORE), datetime.time(REMIND_HOUR), tzinfo=zone)
    deadline = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), tzinfo=zone)
    return remind, deadline


def _reminder_rows(measure: PolicyMeasure) -> list[Reminder]:
    """One reminder per year still to be evaluated (``evaluation_years``) to the responsible
    service's staff: written all at once, so that a year left unevaluated does not silence the
    years after it. The text names the measure's number, the plan and the year: no person."""
    plan, service = measure.plan, measure.responsible_service
    rows = []
    for year in evaluation_years(measure):
        due_at, deadline_at = reminder_due(measure, year)
        message = system_text(gettext_noop("Plan measure %(number)s of “%(plan)s”: record its evaluation for %(year)s"),
                              number=measure.number, plan=plan.title[:120], year=year)
        rows.append(reminder_row(
            key=f"{obligation(measure)}:{year}:{service.pk}", obligation=obligation(measure), kind=Reminder.Kind.REMINDER,
            message=message, service=service, audience=Reminder.Audience.STAFF, subject=measure, required_perm=POLICY_MEASURE_RESPONSIBLE,
            due_at=due_at, url=reverse("insights:measure_evaluate", args=[measure.code]), topic=REMINDER_TOPIC, deadline_at=deadline_at,
        ))
    return rows


def _reminders_refresh(measure: PolicyMeasure) -> None:
    """Make the measure's unsent reminders what the measure is now: one for each year still to be
    evaluated, to its responsible service, or none. Every other unsent one is cancelled; one cancelled before and owed
    again is revived at the new time (notifications.services.reminders_restore); one sent is never
    sent again. Call in the transaction that changed the measure."""
    reminder_cancel(obligation=obligation(measure))
    reminders_restore(_reminder_rows(measure))
