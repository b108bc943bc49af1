"""An acute melding (issue 7, point 13): the form and the concern's page show 112 and the
municipality's barnevernvakt number, and barnevern's leaders are alerted at once, exactly once,
by an e-mail whose subject names no one.

Personas: ``reporter`` (Solsiden barnehage) sends; ``bv_leader`` (leader) and ``caseworker``
(staff) at Barneverntjenesten. Celery runs eagerly in-process (the real task bodies, no broker).
"""
import pytest
from django.urls import reverse

from notifications.models import Notification, Reminder
from notifications.services import reminders_sweep
from referrals.models import Concern
from tests.factories import make_melding
from tests.workflows.concern.test_bad_input import melding_post

pytestmark = pytest.mark.django_db

PHONE = "22 33 44 55"



@pytest.fixture
def vakt(org):
    org.municipality.emergency_phone = PHONE
    org.municipality.save(update_fields=["emergency_phone"])
    return PHONE


def alarm_notices(concern):
    return Notification.objects.filter(reminder__subject_id=concern.pk, kind=Reminder.Kind.ALARM,
                                       reminder__obligation=f"concern:{concern.pk}:acute")


class AcuteNumbersTests:
    def test_it_shows_112_and_the_barnevernvakt_number_when_acute_is_chosen(self, client, org, vakt):
        client.force_login(org.reporter)
        html = client.get(reverse("concerns:create")).content.decode()
        box = html.split('data-testid="acute-box"', 1)[1].split("</div>", 1)[0]
        assert "112" in box and f'href="tel:{PHONE}"' in box
        # Shown for "acute" only (app.js hides it otherwise; without JavaScript it always shows).
        assert 'data-shows-for="urgency=acute" data-testid="acute-box"' in html

    def test_it_shows_them_on_the_page_of_the_acute_melding_just_sent(self, client, org, vakt):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), melding_post(org, urgency="acute"), follow=True)
        box = response.content.decode().split('data-testid="acute-box"', 1)[1].split("</div>", 1)[0]
        assert "112" in box and PHONE in box

    def test_it_shows_no_box_on_a_normal_melding(self, client, org, vakt):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), melding_post(org, urgency="urgent"), follow=True)
        assert 'data-testid="acute-box"' not in response.content.decode()

    def test_it_says_to_call_barnevernvakten_where_the_municipality_has_no_number(self, client, org):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), melding_post(org, urgency="acute"), follow=True)
        box = response.content.decode().split('data-testid="acute-box"', 1)[1].split("</div>", 1)[0]
        assert "112" in box and "tel:" not in box


class LeadersAlertedTests:
    def test_it_alerts_barneverns_leaders_at_once_by_email(self, org, eager_celery, mailoutbox, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            concern = make_melding(org, urgency=Concern.Urgency.ACUTE)
        # Delivered on commit, without a sweep: the leader, not the staff, and nobody elsewhere.
        assert set(alarm_notices(concern).values_list("user", flat=True)) == {org.bv_leader.pk}
        # Its heading names the case by its reference and says it is acute (notifications, point 12).
        notice = alarm_notices(concern).get()
        assert (notice.reference, notice.topic) == (concern.reference, "Acute concern: the child may be in danger now")
        mails = [m for m in mailoutbox if m.to == [org.bv_leader.email]]
        assert len(mails) == 1
        subject = mails[0].subject
        assert concern.reference not in subject and concern.person.given_name not in subject
        assert concern.reference in mails[0].body and concern.person.given_name not in mails[0].body

    def test_it_alerts_them_exactly_once_when_the_sweep_runs_too(self, org, eager_celery, mailoutbox, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            concern = make_melding(org, urgency=Concern.Urgency.ACUTE)
            reminders_sweep()
            reminders_sweep()
        assert alarm_notices(concern).count() == 1
        alarm = alarm_notices(concern).get().message
        # (The sweep also delivers the "new concern" notice to all staff, the leader included.)
        assert len([m for m in mailoutbox if m.to == [org.bv_leader.email] and alarm in m.body]) == 1

    def test_it_leaves_the_alarm_to_the_sweep_when_the_queue_did_not_run_it(self, org, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False):
            concern = make_melding(org, urgency=Concern.Urgency.ACUTE)
        assert not alarm_notices(concern).exists()
        reminders_sweep()
        assert set(alarm_notices(concern).values_list("user", flat=True)) == {org.bv_leader.pk}

    @pytest.mark.parametrize("urgency", [Concern.Urgency.NORMAL, Concern.Urgency.URGENT])
    def test_it_alerts_no_leader_for_a_melding_that_is_not_acute(self, org, urgency, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            concern = make_melding(org, urgency=urgency)
        assert not Reminder.objects.filter(obligation=f"concern:{concern.pk}:acute").exists()

    def test_it_alerts_when_an_acute_draft_is_sent_not_when_it_is_saved(self, org, django_capture_on_commit_callbacks):
        from workflows.concern import services as svc

        draft = make_melding(org, submit=False, urgency=Concern.Urgency.ACUTE)
        assert not Reminder.objects.filter(obligation=f"concern:{draft.pk}:acute").exists()
        svc.concern_submit(concern=draft, user=org.reporter)
        assert Reminder.objects.filter(obligation=f"concern:{draft.pk}:acute", audience=Reminder.Audience.LEADERS).count() == 1
