"""A draft sent from its page while incomplete comes back as its edit form (issue 7, points 6-7):
the child named by the reporting service's own record, and that read of the child's data logged.

Personas: ``reporter`` (Solsiden barnehage, the draft's service).
"""
import pytest
from django.urls import reverse

from audit.models import AccessLog
from people.services import person_record_set
from referrals.models import Concern
from tests.factories import make_melding
from workflows.concern import services as svc

pytestmark = pytest.mark.django_db


class RefusedSendFormTests:
    def test_it_fills_the_form_from_the_reporting_services_record_and_logs_the_read(self, client, org):
        draft = make_melding(org, submit=False)
        # Another service's spelling of the same child is not the reporter's to see.
        person_record_set(person=draft.person, service=org.barnevern, given_name="Emmy", family_name="Other")
        Concern.objects.filter(pk=draft.pk).update(categories=[])  # left unanswered: the send is refused
        draft.refresh_from_db()
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:send", args=[draft.code]), {"version": svc.concern_version(draft)})
        assert response.status_code == 422
        form = response.context["form"]
        assert form["given_name"].value() == "Emma" and "categories" in form.errors
        assert "Emmy" not in response.content.decode()
        assert AccessLog.objects.filter(
            object_id=draft.pk, object_type="referrals.concern", action="view", purpose="concern draft",
            user=org.reporter, person=draft.person, service=org.barnehage,
        ).count() == 1
        assert Concern.objects.get(pk=draft.pk).status == Concern.Status.DRAFT
