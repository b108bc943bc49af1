"""The follow-up worker's appointments as an iCalendar feed (RFC 5545), for Outlook to subscribe to.

A secret address per user (CalendarFeed: only the token's hash is stored; a new address or a
revocation ends the old one). Events are all-day, one per test or conversation without a result,
and name no one: the summary says what and the contract's reference, nothing else.
"""
import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from referrals.models import CalendarFeed
from workflows.ical import ical_document, ical_text
from workflows.youth_contract.selectors import week_appointments

FEED_DAYS_BACK = 14
FEED_DAYS_AHEAD = 120


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_renew(*, user) -> str:
    """Make the user's feed address (ending any earlier one) and return its secret token, shown once."""
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.create(user=user, token_hash=_hash(token))
    return token


@transaction.atomic
def calendar_feed_revoke(*, user) -> int:
    """End the user's feed address; returns how many were live (0 or 1)."""
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def calendar_feed_user(token: str):
    """The active user whose live feed ``token`` is, or None (unknown, revoked, or the user is gone)."""
    if not token or len(token) > 100:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=_hash(token), revoked_at__isnull=True).first()
    if feed is None or not feed.user.is_active:
        return None
    return feed.user


def calendar_feed_has_live(user) -> bool:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).exists()


def calendar_feed_body(user, *, base_url: str = "") -> str:
    """The user's appointments (from FEED_DAYS_BACK days ago, FEED_DAYS_AHEAD days ahead) as an
    iCalendar document, in the site's default language."""
    today = timezone.localdate()
    start = today - datetime.timedelta(days=FEED_DAYS_BACK)
    appointments = week_appointments(user, day=start, days=FEED_DAYS_BACK + FEED_DAYS_AHEAD)
    stamp = timezone.now().astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    with override(settings.LANGUAGE_CODE):
        name = _("Youth contract appointments")  # outside the f-string: makemessages reads no call inside one
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Samhandling//Ungdomskontrakt//NB", "CALSCALE:GREGORIAN",
                 "METHOD:PUBLISH", f"X-WR-CALNAME:{ical_text(name)}"]
        for a in appointments:
            summary = _("%(kind)s – youth contract %(ref)s") % {"kind": a.get_kind_display(), "ref": a.contract.reference}
            lines += [
                "BEGIN:VEVENT", f"UID:{a.code}@samhandling", f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{a.on:%Y%m%d}", f"DTEND;VALUE=DATE:{a.on + datetime.timedelta(days=1):%Y%m%d}",
                f"SUMMARY:{ical_text(summary)}", "TRANSP:TRANSPARENT",
            ]
            if base_url:
                lines.append(f"URL:{base_url}{reverse('youth_contracts:detail', args=[a.contract.code])}")
            lines.append("END:VEVENT")
        lines.append("END:VCALENDAR")
    return ical_document(lines)
