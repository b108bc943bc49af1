"""The forums' demo (issue 11, point 5): the politiråd twice a year, its working group every six
weeks and the SLT coordination group monthly, a year of past meetings with agendas and minutes and
meetings ahead, through the real services; the ``slt`` user runs them and the police read them."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from insights.demo_forums import seed
from insights.models import Forum, ForumMeeting
from notifications.models import Reminder

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    from workflows.demo import seed_demo
    from workflows.processes import processes

    return seed_demo(skip=tuple(p.name for p in processes()))


class ForumDemoTests:
    def test_it_seeds_three_forums_with_a_past_year_of_minutes_and_meetings_ahead(self, seeded):
        seed(seeded)
        seed(seeded)  # idempotent
        forums = {f.kind: f for f in Forum.objects.all()}
        assert set(forums) == {Forum.Kind.POLITIRAD, Forum.Kind.POLITIRAD_WORKING_GROUP, Forum.Kind.SLT_GROUP}
        now = timezone.now()
        past = ForumMeeting.objects.filter(ends_at__lt=now)
        assert not past.exclude(status=ForumMeeting.Status.HELD).exists()
        assert past.filter(minutes__isnull=True).count() == 0
        assert past.filter(forum=forums[Forum.Kind.SLT_GROUP]).count() >= 11
        assert past.filter(forum=forums[Forum.Kind.POLITIRAD_WORKING_GROUP]).count() >= 8
        assert past.filter(forum=forums[Forum.Kind.POLITIRAD]).count() >= 2
        ahead = ForumMeeting.objects.filter(starts_at__gt=now, status=ForumMeeting.Status.PLANNED)
        assert {m.forum.kind for m in ahead} == set(forums)
        # Only the meetings ahead have live reminders: the past ones were cancelled by their minutes.
        live = Reminder.objects.filter(obligation__startswith="forums:", sent_at__isnull=True, cancelled_at__isnull=True)
        assert live.exists() and not live.filter(deadline_at__lt=now - datetime.timedelta(days=1)).exists()

    def test_the_slt_user_runs_them_and_the_police_read_them(self, client, seeded):
        seed(seeded)
        forum = Forum.objects.get(kind=Forum.Kind.POLITIRAD)
        client.force_login(seeded["users"]["slt"])
        assert client.get(reverse("insights:forum_members", args=[forum.code])).status_code == 200
        client.force_login(seeded["users"]["politi"])
        page = client.get(reverse("insights:forums")).content.decode()
        assert page.count('data-testid="forum-row"') == 3
        assert client.get(reverse("insights:forum", args=[forum.code])).status_code == 200
        client.force_login(seeded["users"]["barnehage"])
        assert client.get(reverse("insights:forum", args=[forum.code])).status_code == 404
