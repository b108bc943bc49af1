"""The SLT forums' services and access helper (issue 11, point 5): a forum run by SLT with member
services, meetings scheduled by its recurrence, agendas that refuse identity numbers, minutes
written once, and who reads and who changes. Personas and dates: forum_scenario.py.
"""
import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from insights import forums as svc
from insights.forum_selectors import forum_get_for_user, forum_meetings, forums_for_user, meeting_get_for_user
from insights.models import AgendaItem, Forum, ForumMeeting, ForumMember, ForumMinutes
from org.access import object_perms
from org.models import Service
from people.validators import synthetic_national_id
from tests.factories import member
from tests.insights.forum_scenario import FIRST, HOUR, at, fo, frozen, make_forum, schedule  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def codes(refused: pytest.ExceptionInfo) -> set[str]:
    error = refused.value
    if hasattr(error, "error_dict"):
        return set(error.error_dict)
    return {e.code for e in error.error_list}


def local_starts(meetings) -> list[tuple]:
    from django.utils import timezone

    return [(timezone.localtime(m.starts_at).date(), timezone.localtime(m.starts_at).time()) for m in meetings]


class ForumCreateTests:
    def test_it_grants_the_owner_run_and_the_members_take_part(self, fo):
        assert object_perms(fo.slt, fo.forum) == {"run_forum"}
        assert object_perms(fo.police, fo.forum) == {"take_part_forum"}
        assert object_perms(fo.org.caseworker, fo.forum) == set()
        assert sorted(m.service.name for m in ForumMember.objects.filter(forum=fo.forum)) == ["Fjordvik politistasjon", "NAV"]

    def test_it_refuses_an_owner_the_user_does_not_work_in(self, fo):
        with pytest.raises(ValidationError) as refused:
            svc.forum_create(user=fo.police, owner=fo.org.slt, municipality=fo.org.municipality, kind=Forum.Kind.POLITIRAD,
                             name="Politirådet", recurrence=Forum.Recurrence.TWICE_A_YEAR)
        assert codes(refused) == {"owner"}
        assert Forum.objects.count() == 1

    def test_it_refuses_every_n_weeks_without_an_interval_and_saves_nothing(self, fo):
        with pytest.raises(ValidationError) as refused:
            svc.forum_create(user=fo.slt, owner=fo.org.slt, municipality=fo.org.municipality, kind=Forum.Kind.TFG, name="TFG",
                             recurrence=Forum.Recurrence.EVERY_N_WEEKS, every_weeks=None, members=[fo.org.nav])
        assert codes(refused) == {"every_weeks"}
        assert Forum.objects.count() == 1


class RecurrenceTests:
    def test_it_schedules_every_six_weeks_at_the_same_wall_clock_time_across_the_summer_time_change(self, fo):
        meetings = schedule(fo, until=datetime.date(2026, 12, 31))
        assert local_starts(meetings) == [(datetime.date(2026, 9, 15), datetime.time(13, 0)), (datetime.date(2026, 10, 27), datetime.time(13, 0)),
                                          (datetime.date(2026, 12, 8), datetime.time(13, 0))]
        assert all(m.ends_at - m.starts_at == 2 * HOUR for m in meetings)

    def test_it_schedules_twice_a_year(self, fo):
        forum = make_forum(fo.org, recurrence=Forum.Recurrence.TWICE_A_YEAR, kind=Forum.Kind.POLITIRAD, name="Politirådet")
        meetings = schedule(fo, forum=forum, until=datetime.date(2027, 12, 31))
        assert [d for d, _t in local_starts(meetings)] == [datetime.date(2026, 9, 15), datetime.date(2027, 3, 15), datetime.date(2027, 9, 15)]

    def test_it_schedules_monthly_on_the_same_day_or_the_months_last(self, fo):
        forum = make_forum(fo.org, recurrence=Forum.Recurrence.MONTHLY, kind=Forum.Kind.SLT_GROUP, name="SLT-koordineringsgruppen")
        meetings = schedule(fo, forum=forum, starts=at(2026, 10, 31, 9, 0), until=datetime.date(2027, 2, 28))
        assert [d for d, _t in local_starts(meetings)] == [datetime.date(2026, 10, 31), datetime.date(2026, 11, 30), datetime.date(2026, 12, 31),
                                                          datetime.date(2027, 1, 31), datetime.date(2027, 2, 28)]

    def test_it_schedules_every_n_weeks(self, fo):
        forum = make_forum(fo.org, recurrence=Forum.Recurrence.EVERY_N_WEEKS, every_weeks=3, kind=Forum.Kind.TFG, name="TFG")
        meetings = schedule(fo, forum=forum, until=datetime.date(2026, 10, 27))
        assert [d for d, _t in local_starts(meetings)] == [datetime.date(2026, 9, 15), datetime.date(2026, 10, 6), datetime.date(2026, 10, 27)]

    def test_it_schedules_one_meeting_without_a_last_date(self, fo):
        assert len(schedule(fo)) == 1

    @pytest.mark.parametrize("starts, hours, until, field", [
        (at(2026, 8, 31, 13, 0), 2, None, "starts_at"),  # in the past
        (FIRST, 0, None, "ends_at"),  # ends when it starts
        (FIRST, 13, None, "ends_at"),  # longer than a working day
        (FIRST, 2, datetime.date(2026, 9, 15), "until"),  # the last date is the first meeting's
        (FIRST, 2, datetime.date(2026, 9, 1), "until"),  # before the first meeting
        (FIRST, 2, datetime.date(2029, 1, 1), "until"),  # more than two years ahead
    ])
    def test_it_refuses_bad_times_and_schedules_nothing(self, fo, starts, hours, until, field):
        with pytest.raises(ValidationError) as refused:
            schedule(fo, starts=starts, hours=hours, until=until)
        assert field in codes(refused)
        assert not ForumMeeting.objects.exists()

    def test_it_refuses_more_meetings_than_the_bound(self, fo):
        forum = make_forum(fo.org, recurrence=Forum.Recurrence.EVERY_N_WEEKS, every_weeks=1, kind=Forum.Kind.OTHER, name="Ukemøte")
        with pytest.raises(ValidationError) as refused:
            schedule(fo, forum=forum, until=datetime.date(2027, 9, 1))
        assert codes(refused) == {"until"}
        assert not ForumMeeting.objects.exists()

    def test_a_member_cannot_schedule(self, fo):
        with pytest.raises(ValidationError) as refused:
            svc.meetings_schedule(user=fo.police, forum=fo.forum, starts_at=FIRST, ends_at=FIRST + HOUR, place="Rådhuset")
        assert codes(refused) == {"not_owner"}

    def test_an_inactive_forum_schedules_nothing(self, fo):
        Forum.objects.filter(pk=fo.forum.pk).update(active=False)
        with pytest.raises(ValidationError) as refused:
            schedule(fo)
        assert codes(refused) == {"inactive"}


class ForumAccessTests:
    def test_the_owners_staff_and_members_staff_read_the_forum(self, fo):
        for user in (fo.slt, fo.police, fo.nav_staff):
            assert forum_get_for_user(user, fo.forum.code) == fo.forum
        assert list(forums_for_user(fo.police)) == [fo.forum]

    def test_a_caseworker_of_a_service_not_a_member_gets_404(self, fo):
        with pytest.raises(Http404):
            forum_get_for_user(fo.org.caseworker, fo.forum.code)
        assert list(forums_for_user(fo.org.caseworker)) == []

    def test_a_members_staff_read_but_do_not_change(self, fo):
        with pytest.raises(Http404):
            forum_get_for_user(fo.police, fo.forum.code, run=True)
        assert forum_get_for_user(fo.slt, fo.forum.code, run=True) == fo.forum

    def test_missing_and_forged_codes_get_404(self, fo):
        for code in (uuid.uuid4(), "not-a-code"):
            with pytest.raises(Http404):
                forum_get_for_user(fo.slt, code)

    def test_a_removed_members_staff_get_404_and_lose_the_grant(self, fo):
        (meeting,) = schedule(fo)
        svc.forum_member_remove(user=fo.slt, forum=fo.forum, service=fo.police_service)
        with pytest.raises(Http404):
            forum_get_for_user(fo.police, fo.forum.code)
        with pytest.raises(Http404):
            meeting_get_for_user(fo.police, meeting.code)
        assert object_perms(fo.police, fo.forum) == set()

    def test_slt_staff_of_another_slt_service_get_404(self, fo):
        other_slt = Service.objects.create(municipality=fo.org.municipality, name="SLT Nabo", kind=Service.Kind.SLT)
        with pytest.raises(Http404):
            forum_get_for_user(member(other_slt), fo.forum.code)


class MemberTests:
    def test_it_refuses_a_service_already_a_member_or_the_owner(self, fo):
        for service in (fo.police_service, fo.org.slt):
            with pytest.raises(ValidationError):
                svc.forum_member_add(user=fo.slt, forum=fo.forum, service=service)
        assert ForumMember.objects.filter(forum=fo.forum, removed_at__isnull=True).count() == 2

    def test_a_service_added_again_reads_again(self, fo):
        svc.forum_member_remove(user=fo.slt, forum=fo.forum, service=fo.police_service)
        svc.forum_member_add(user=fo.slt, forum=fo.forum, service=fo.police_service)
        assert forum_get_for_user(fo.police, fo.forum.code) == fo.forum
        assert object_perms(fo.police, fo.forum) == {"take_part_forum"}

    def test_a_member_cannot_change_the_members(self, fo):
        with pytest.raises(ValidationError):
            svc.forum_member_add(user=fo.police, forum=fo.forum, service=fo.org.barnevern)
        assert not ForumMember.objects.filter(service=fo.org.barnevern).exists()


class AgendaTests:
    @pytest.mark.parametrize("text", [
        "Bekymring for 12345678901",  # eleven digits, no valid number
        "Gjelder " + synthetic_national_id(datetime.date(2011, 4, 3))[:6] + " " + synthetic_national_id(datetime.date(2011, 4, 3))[6:],
        "D-nr. " + str(int(synthetic_national_id(datetime.date(2010, 2, 3))[0]) + 4) + synthetic_national_id(datetime.date(2010, 2, 3))[1:],
    ])
    def test_it_refuses_text_that_looks_like_an_identity_number(self, fo, text):
        (meeting,) = schedule(fo)
        for fields, refused_field in (({"title": text}, "title"), ({"title": "Uro i sentrum", "text": text}, "text")):
            with pytest.raises(ValidationError) as refused:
                svc.agenda_item_add(user=fo.slt, meeting=meeting, **fields)
            assert codes(refused) == {refused_field}
        assert not AgendaItem.objects.exists()

    def test_it_adds_a_theme_and_numbers_the_items(self, fo):
        (meeting,) = schedule(fo)
        svc.agenda_item_add(user=fo.slt, meeting=meeting, title="Ungdata 2026", text="Gjennomgang av resultatene for 10. trinn.")
        svc.agenda_item_add(user=fo.slt, meeting=meeting, title="Uro ved kjøpesenteret", sequence=1)
        assert list(meeting.agenda.values_list("position", "title")) == [(1, "Ungdata 2026"), (2, "Uro ved kjøpesenteret")]
        meeting.refresh_from_db()
        assert meeting.sequence == 2

    def test_it_refuses_a_stale_page(self, fo):
        (meeting,) = schedule(fo)
        svc.agenda_item_add(user=fo.slt, meeting=meeting, title="Ungdata 2026", sequence=0)
        with pytest.raises(ValidationError) as refused:
            svc.agenda_item_add(user=fo.slt, meeting=meeting, title="Russefeiring", sequence=0)
        assert codes(refused) == {"stale"}
        with pytest.raises(ValidationError):
            svc.meeting_cancel(user=fo.slt, meeting=meeting, sequence=0)
        assert list(meeting.agenda.values_list("title", flat=True)) == ["Ungdata 2026"]
        assert ForumMeeting.objects.get(pk=meeting.pk).status == ForumMeeting.Status.PLANNED

    def test_a_member_cannot_add_to_the_agenda(self, fo):
        (meeting,) = schedule(fo)
        with pytest.raises(ValidationError) as refused:
            svc.agenda_item_add(user=fo.police, meeting=meeting, title="Ungdata 2026")
        assert codes(refused) == {"not_owner"}

    def test_it_takes_an_item_off(self, fo):
        (meeting,) = schedule(fo)
        item = svc.agenda_item_add(user=fo.slt, meeting=meeting, title="Ungdata 2026")
        svc.agenda_item_remove(user=fo.slt, meeting=meeting, item_id=item.pk, sequence=1)
        assert not AgendaItem.objects.exists()


class MinutesTests:
    def test_it_refuses_minutes_before_the_meeting(self, fo):
        (meeting,) = schedule(fo)
        with pytest.raises(ValidationError) as refused:
            svc.minutes_record(user=fo.slt, meeting=meeting, text="Referat.")
        assert codes(refused) == {"out_of_order"}

    def test_it_writes_the_minutes_once(self, fo, frozen):
        import time_machine

        (meeting,) = schedule(fo)
        with time_machine.travel(FIRST + 3 * HOUR, tick=False):
            svc.minutes_record(user=fo.slt, meeting=meeting, text="Gjennomgang av Ungdata. Tiltak følges opp i neste møte.", sequence=0)
            with pytest.raises(ValidationError) as refused:
                svc.minutes_record(user=fo.slt, meeting=meeting, text="Et nytt referat.", sequence=1)
        assert codes(refused) == {"out_of_order"}
        assert ForumMinutes.objects.get().text.startswith("Gjennomgang")
        meeting.refresh_from_db()
        assert meeting.status == ForumMeeting.Status.HELD
        upcoming, past = forum_meetings(fo.forum)
        assert upcoming == [] and [(m.pk, m.has_minutes) for m in past] == [(meeting.pk, True)]

    def test_it_refuses_minutes_with_an_identity_number(self, fo):
        import time_machine

        (meeting,) = schedule(fo)
        with time_machine.travel(FIRST + 3 * HOUR, tick=False):
            with pytest.raises(ValidationError) as refused:
                svc.minutes_record(user=fo.slt, meeting=meeting, text="Drøftet 12345678901.")
        assert codes(refused) == {"text"}
        assert not ForumMinutes.objects.exists()

    def test_a_cancelled_meeting_takes_no_minutes(self, fo):
        import time_machine

        (meeting,) = schedule(fo)
        svc.meeting_cancel(user=fo.slt, meeting=meeting, sequence=0)
        with time_machine.travel(FIRST + 3 * HOUR, tick=False):
            with pytest.raises(ValidationError):
                svc.minutes_record(user=fo.slt, meeting=meeting, text="Referat.")
        assert not ForumMinutes.objects.exists()
