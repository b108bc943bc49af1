"""The reporter's status follows the feedback the law gives it (issue 7, point 9): received; an
investigation opened, or the melding closed after review (henlagt); the investigation concluded.
Not "received" forever; and the list's feedback deadline goes once the feedback is given.

Personas: ``reporter`` (Solsiden barnehage), ``caseworker`` (Barneverntjenesten).
"""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from referrals.models import Concern
from tests.factories import advance, make_melding
from tests.workflows.concern.test_feedback import in_page_language, reporter_page, testid_text
from workflows.concern import selectors
from workflows.concern import services as svc
from workflows.services.deadlines import deadline_for

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
SENT = datetime(2026, 3, 2, 10, 0, tzinfo=OSLO)


def feedback(org, concern, kind):
    svc.concern_send_feedback(concern=Concern.objects.get(pk=concern.pk), user=org.caseworker, kind=kind)
    return Concern.objects.get(pk=concern.pk)


def my_row(client, org, concern):
    client.force_login(org.reporter)
    rows = client.get(reverse("concerns:index")).context["rows"]
    return next(row for row in rows if row.pk == concern.pk)


class ReporterStageTests:
    @pytest.mark.parametrize("state, label", [
        ("investigating", Concern.Status.INVESTIGATING.label),
        ("closed", Concern.Status.CLOSED.label),
    ])
    def test_it_shows_whether_an_investigation_was_opened_once_the_feedback_says_so(self, client, org, state, label):
        concern = feedback(org, advance(make_melding(org), org, state), "initial")
        assert testid_text(reporter_page(client, org, concern), "status") == in_page_language(label)
        assert str(my_row(client, org, concern).reporter_status) == str(label)

    def test_it_shows_the_investigation_concluded_once_the_feedback_after_it_is_given(self, client, org):
        concern = feedback(org, advance(make_melding(org), org, "investigating"), "initial")
        svc.concern_conclude_investigation(concern=concern, user=org.caseworker, outcome="measures")
        # Concluded, but the reporter has not been told yet: still "investigation opened".
        assert testid_text(reporter_page(client, org, concern), "status") == in_page_language(Concern.Status.INVESTIGATING.label)
        concern = feedback(org, concern, "final")
        assert testid_text(reporter_page(client, org, concern), "status") == in_page_language(Concern.Status.INVESTIGATED.label)
        assert str(my_row(client, org, concern).reporter_status) == str(Concern.Status.INVESTIGATED.label)

    def test_it_gives_the_first_feedback_only_with_the_review_decision(self, client, org):
        """The first feedback says whether an investigation was opened (§ 13-2), so it cannot be
        given before the review, and a reporter is never left at "received" by an early one."""
        concern = advance(make_melding(org), org, "received")
        with pytest.raises(ValidationError):
            feedback(org, concern, "initial")
        svc.concern_review(concern=concern, user=org.caseworker, decision="close", justification="Ingen grunn.")
        assert testid_text(reporter_page(client, org, concern), "status") == in_page_language(Concern.Status.RECEIVED.label)
        concern = feedback(org, concern, "initial")
        assert testid_text(reporter_page(client, org, concern), "status") == in_page_language(Concern.Status.CLOSED.label)

    def test_it_reads_the_list_in_a_constant_number_of_queries(self, client, org, django_assert_max_num_queries):
        for state in ("investigated", "investigating", "closed"):
            feedback(org, advance(make_melding(org), org, state), "initial")
        client.force_login(org.reporter)
        client.get(reverse("concerns:index"))
        with django_assert_max_num_queries(30) as few:
            client.get(reverse("concerns:index"))
        for state in ("investigating", "closed", "investigated"):
            feedback(org, advance(make_melding(org), org, state), "initial")
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(reverse("concerns:index"))

    def test_it_matches_the_page_and_the_list(self, client, org):
        concern = feedback(org, advance(make_melding(org), org, "closed"), "initial")
        row = my_row(client, org, concern)
        assert str(row.reporter_status) == str(selectors.reporter_status_label(Concern.objects.get(pk=concern.pk)))


class FeedbackDeadlineTests:
    def test_it_shows_the_deadline_of_the_feedback_still_owed_and_drops_it_once_given(self, client, org):
        with time_machine.travel(SENT, tick=False):
            concern = advance(make_melding(org), org, "investigating")
            initial_due = deadline_for(concern, "feedback_initial", process="concern").due_at
            assert my_row(client, org, concern).feedback_due_at == initial_due
            concern = feedback(org, concern, "initial")
            assert my_row(client, org, concern).feedback_due_at is None
        with time_machine.travel(SENT + timedelta(days=40), tick=False):
            svc.concern_conclude_investigation(concern=concern, user=org.caseworker, outcome="closed")
            final_due = deadline_for(concern, "feedback_final", process="concern").due_at
            assert my_row(client, org, concern).feedback_due_at == final_due
            concern = feedback(org, concern, "final")
            assert my_row(client, org, concern).feedback_due_at is None
