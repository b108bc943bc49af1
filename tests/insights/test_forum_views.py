"""The forums' pages (issue 11, point 5): the list, a forum, a new forum, its members, scheduling
and a meeting; 404 on every forum URL for a service that is not a member and for forged codes; a
member's staff read but every change URL answers them 404; bad input and stale pages refused
with a translated error, nothing changed. Personas and dates: forum_scenario.py (the pages
speak bokmål).
"""
import datetime
import uuid

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from insights.models import AgendaItem, Forum, ForumMeeting, ForumMember, ForumMinutes
from tests.factories import make_service, member
from tests.insights.forum_scenario import FIRST, HOUR, fo, frozen, schedule  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def in_bokmal(msgid: str) -> str:
    """``msgid`` as the bokmål page shows it (its translation arrives with the lead's catalogue merge)."""
    with translation.override("nb"):
        return escape(translation.gettext(msgid))


@pytest.fixture
def meeting(fo):
    (meeting,) = schedule(fo)
    return meeting


def read_urls(forum, meeting) -> list[str]:
    return [reverse("insights:forum", args=[forum.code]), reverse("insights:forum_meeting", args=[meeting.code])]


def change_urls(forum, meeting) -> list[tuple[str, str]]:
    return [("get", reverse("insights:forum_members", args=[forum.code])),
            ("post", reverse("insights:forum_member_add", args=[forum.code])),
            ("post", reverse("insights:forum_member_remove", args=[forum.code])),
            ("get", reverse("insights:forum_meetings_new", args=[forum.code])),
            ("post", reverse("insights:forum_meetings_create", args=[forum.code])),
            ("post", reverse("insights:forum_agenda_add", args=[meeting.code])),
            ("post", reverse("insights:forum_agenda_remove", args=[meeting.code])),
            ("post", reverse("insights:forum_meeting_cancel", args=[meeting.code])),
            ("post", reverse("insights:forum_minutes", args=[meeting.code]))]


def agenda_post(meeting, **data):
    return {"sequence": meeting.sequence, "title": "Ungdata 2026", "text": "", **data}


class ForumAccessPageTests:
    def test_a_caseworker_of_a_service_not_a_member_gets_404_on_every_forum_url(self, client, fo, meeting):
        client.force_login(fo.org.caseworker)
        assert client.get(reverse("insights:forums")).status_code == 404
        for url in read_urls(fo.forum, meeting):
            assert client.get(url).status_code == 404, url
        for method, url in change_urls(fo.forum, meeting):
            assert getattr(client, method)(url, {"sequence": 0, "title": "x"}).status_code == 404, url
        assert ForumMeeting.objects.get().status == ForumMeeting.Status.PLANNED

    def test_a_members_staff_read_the_pages_but_every_change_url_answers_404(self, client, fo, meeting):
        client.force_login(fo.police)
        page = client.get(reverse("insights:forums")).content.decode()
        assert fo.forum.name in page and reverse("insights:forum_new") not in page
        for url in read_urls(fo.forum, meeting):
            response = client.get(url)
            assert response.status_code == 200, url
            assert 'data-testid="agenda-form"' not in response.content.decode()
        for method, url in change_urls(fo.forum, meeting):
            assert getattr(client, method)(url, agenda_post(meeting)).status_code == 404, url
        assert not AgendaItem.objects.exists()

    def test_forged_codes_get_404(self, client, fo):
        client.force_login(fo.slt)
        for name in ("forum", "forum_meeting", "forum_members"):
            assert client.get(reverse(f"insights:{name}", args=[uuid.uuid4()])).status_code == 404
            assert client.get(reverse(f"insights:{name}", args=["x"])).status_code == 404

    def test_every_change_is_post_only(self, client, fo, meeting):
        client.force_login(fo.slt)
        for method, url in change_urls(fo.forum, meeting):
            if method == "post":
                assert client.get(url).status_code == 405, url
        assert client.get(reverse("insights:forum_create")).status_code == 405


class ForumPageTests:
    def test_the_forum_page_shows_members_meetings_to_come_and_past_minutes(self, client, fo):
        meetings = schedule(fo, until=datetime.date(2026, 12, 31))
        with time_machine.travel(FIRST + 3 * HOUR, tick=False):
            client.force_login(fo.slt)
            response = client.post(reverse("insights:forum_minutes", args=[meetings[0].code]), {"sequence": 0, "text": "Referat."})
            assert response.status_code == 302
            page = client.get(reverse("insights:forum", args=[fo.forum.code])).content.decode()
        assert page.count('data-testid="member"') == 2
        assert page.count('data-testid="meeting-upcoming"') == 2
        assert page.count('data-testid="meeting-past" data-minutes="yes"') == 1

    def test_the_slt_coordinator_creates_a_forum(self, client, fo):
        client.force_login(fo.slt)
        assert client.get(reverse("insights:forum_new")).status_code == 200
        response = client.post(reverse("insights:forum_create"), {
            "owner": fo.org.slt.pk, "municipality": fo.org.municipality.pk, "kind": Forum.Kind.POLITIRAD, "name": "Politirådet",
            "recurrence": Forum.Recurrence.TWICE_A_YEAR, "members": [fo.police_service.pk],
        })
        forum = Forum.objects.get(name="Politirådet")
        assert response.status_code == 302 and response["Location"] == reverse("insights:forum", args=[forum.code])
        assert list(forum.members.values_list("service_id", flat=True)) == [fo.police_service.pk]

    def test_a_forum_of_every_n_weeks_without_the_interval_is_refused_with_a_translated_error(self, client, fo):
        client.force_login(fo.slt)
        response = client.post(reverse("insights:forum_create"), {
            "owner": fo.org.slt.pk, "municipality": fo.org.municipality.pk, "kind": Forum.Kind.TFG, "name": "TFG",
            "recurrence": Forum.Recurrence.EVERY_N_WEEKS,
        })
        assert response.status_code == 422
        assert in_bokmal("Meetings repeat every 1 to %(max)s weeks.") % {"max": 26} in response.content.decode()
        assert Forum.objects.count() == 1

    def test_a_police_officer_may_not_start_a_forum(self, client, fo):
        client.force_login(fo.police)
        assert client.get(reverse("insights:forum_new")).status_code == 404
        assert client.post(reverse("insights:forum_create"), {"name": "x"}).status_code == 404

    def test_the_coordinator_adds_and_removes_a_member(self, client, fo):
        client.force_login(fo.slt)
        response = client.post(reverse("insights:forum_member_add", args=[fo.forum.code]), {"service": fo.org.barnevern.pk})
        assert response.status_code == 302
        assert ForumMember.objects.filter(forum=fo.forum, service=fo.org.barnevern, removed_at__isnull=True).exists()
        client.post(reverse("insights:forum_member_remove", args=[fo.forum.code]), {"service": fo.org.barnevern.code})
        assert not ForumMember.objects.filter(forum=fo.forum, service=fo.org.barnevern, removed_at__isnull=True).exists()
        client.force_login(fo.org.caseworker)
        assert client.get(reverse("insights:forum", args=[fo.forum.code])).status_code == 404

    def test_a_service_of_another_municipality_cannot_be_added(self, client, fo):
        from org.models import Municipality, Service

        elsewhere = make_service(Municipality.objects.create(name="Nabokommune", number="9001"), "NAV Nabo", Service.Kind.NAV)
        client.force_login(fo.slt)
        response = client.post(reverse("insights:forum_member_add", args=[fo.forum.code]), {"service": elsewhere.pk})
        assert response.status_code == 422
        assert not ForumMember.objects.filter(service=elsewhere).exists()


class SchedulePageTests:
    def test_it_schedules_by_the_recurrence(self, client, fo):
        client.force_login(fo.slt)
        assert client.get(reverse("insights:forum_meetings_new", args=[fo.forum.code])).status_code == 200
        response = client.post(reverse("insights:forum_meetings_create", args=[fo.forum.code]), {
            "day": "2026-09-15", "starts": "13:00", "ends": "15:00", "place": "Rådhuset", "until": "2026-12-31"})
        assert response.status_code == 302
        assert ForumMeeting.objects.count() == 3

    def test_a_meeting_ending_before_it_starts_is_refused_with_a_translated_error(self, client, fo):
        client.force_login(fo.slt)
        response = client.post(reverse("insights:forum_meetings_create", args=[fo.forum.code]), {
            "day": "2026-09-15", "starts": "13:00", "ends": "12:00", "place": "Rådhuset", "until": "2026-12-31"})
        assert response.status_code == 422
        assert in_bokmal("The meeting must end after it starts.") in response.content.decode()
        assert not ForumMeeting.objects.exists()


class MeetingPageTests:
    def test_the_agenda_refuses_an_identity_number_with_a_translated_error(self, client, fo, meeting):
        client.force_login(fo.slt)
        response = client.post(reverse("insights:forum_agenda_add", args=[meeting.code]), agenda_post(meeting, title="Sak 12345678901"))
        assert response.status_code == 422
        assert in_bokmal("Remove the number: it looks like a national identity number (fødselsnummer or D-nummer). "
                         "A forum discusses themes and de-identified cases only.") in response.content.decode()
        assert not AgendaItem.objects.exists()

    def test_the_coordinator_adds_an_item_and_members_read_it(self, client, fo, meeting):
        client.force_login(fo.slt)
        assert client.post(reverse("insights:forum_agenda_add", args=[meeting.code]), agenda_post(meeting)).status_code == 302
        client.force_login(fo.nav_staff)
        page = client.get(reverse("insights:forum_meeting", args=[meeting.code])).content.decode()
        assert "Ungdata 2026" in page and page.count('data-testid="agenda-item"') == 1

    def test_a_stale_form_is_refused_and_changes_nothing(self, client, fo, meeting):
        other = member(fo.org.slt)
        client.force_login(fo.slt)
        client.get(reverse("insights:forum_meeting", args=[meeting.code]))  # both pages show revision 0
        stale = meeting.sequence
        client.force_login(other)
        assert client.post(reverse("insights:forum_agenda_add", args=[meeting.code]), agenda_post(meeting)).status_code == 302
        client.force_login(fo.slt)
        response = client.post(reverse("insights:forum_meeting_cancel", args=[meeting.code]), {"sequence": stale}, follow=True)
        assert in_bokmal("The meeting was changed while you had this page open. Reload the page and try again.") in response.content.decode()
        response = client.post(reverse("insights:forum_agenda_add", args=[meeting.code]), agenda_post(meeting, title="Russefeiring",
                                                                                                   sequence=stale))
        assert response.status_code == 422
        meeting.refresh_from_db()
        assert meeting.status == ForumMeeting.Status.PLANNED
        assert list(AgendaItem.objects.values_list("title", flat=True)) == ["Ungdata 2026"]

    def test_the_minutes_form_shows_after_the_meeting_starts_and_the_minutes_are_written_once(self, client, fo, meeting):
        client.force_login(fo.slt)
        assert 'data-testid="minutes-form"' not in client.get(reverse("insights:forum_meeting", args=[meeting.code])).content.decode()
        with time_machine.travel(FIRST + 3 * HOUR, tick=False):
            client.force_login(fo.slt)  # a session of its own: the morning's has expired
            assert 'data-testid="minutes-form"' in client.get(reverse("insights:forum_meeting", args=[meeting.code])).content.decode()
            url = reverse("insights:forum_minutes", args=[meeting.code])
            assert client.post(url, {"sequence": 0, "text": "Gjennomgang av Ungdata."}).status_code == 302
            assert client.post(url, {"sequence": 1, "text": "Et nytt referat."}).status_code == 422
            client.force_login(fo.police)
            page = client.get(reverse("insights:forum_meeting", args=[meeting.code])).content.decode()
        assert "Gjennomgang av Ungdata." in page
        assert list(ForumMinutes.objects.values_list("text", flat=True)) == ["Gjennomgang av Ungdata."]

    def test_the_coordinator_cancels_a_meeting(self, client, fo, meeting):
        client.force_login(fo.slt)
        assert client.post(reverse("insights:forum_meeting_cancel", args=[meeting.code]), {"sequence": 0}).status_code == 302
        meeting.refresh_from_db()
        assert meeting.status == ForumMeeting.Status.CANCELLED
