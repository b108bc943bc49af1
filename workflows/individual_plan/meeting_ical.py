"""A meeting of the ansvarsgruppe as an iCalendar invitation (RFC 5545, one VEVENT).

UID is the meeting's code (stable); SEQUENCE its ``sequence`` (bumped by every change); a planned
or held meeting is published (METHOD:PUBLISH, STATUS:CONFIRMED), a cancelled one sent as its
cancellation (METHOD:CANCEL, STATUS:CANCELLED), so a calendar that imported the invitation removes
it. Times in UTC. The summary names no one: what, and the plan's reference; the organiser is the
holding service, by its name.
"""
import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from referrals.models import PlanMeeting
from workflows.ical import ical_document, ical_text


def _utc(moment) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _quoted(value: str) -> str:
    return '"' + value.replace('"', "") + '"'


def meeting_ical(meeting: PlanMeeting, *, organiser: str, url: str = "") -> str:
    """The meeting's invitation, in the site's default language; ``organiser`` is the holding
    service's name, ``url`` the meeting page's full address (optional)."""
    cancelled = meeting.status == PlanMeeting.Status.CANCELLED
    with override(settings.LANGUAGE_CODE):
        summary = _("Ansvarsgruppe meeting – individual plan %(ref)s") % {"ref": meeting.plan.reference}
        lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Samhandling//Individuell plan//NB", "CALSCALE:GREGORIAN",
            f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
            "BEGIN:VEVENT", f"UID:{meeting.code}@samhandling", f"SEQUENCE:{meeting.sequence}", f"DTSTAMP:{_utc(timezone.now())}",
            f"DTSTART:{_utc(meeting.starts_at)}", f"DTEND:{_utc(meeting.ends_at)}", f"SUMMARY:{ical_text(summary)}",
            f"LOCATION:{ical_text(meeting.place)}", f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
            # A parameter value is quoted, not escaped (RFC 5545 3.2): only a double quote cannot appear in it.
            f"ORGANIZER;CN={_quoted(organiser)}:mailto:{settings.DEFAULT_FROM_EMAIL.split('<')[-1].rstrip('>')}",
        ]
        if url:
            lines.append(f"URL:{url}")
        lines += ["END:VEVENT", "END:VCALENDAR"]
    return ical_document(lines)
