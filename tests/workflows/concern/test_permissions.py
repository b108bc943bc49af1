"""Who may reach a concern: everyone else gets exactly the 404 a missing concern gets.

Personas: ``reporter`` (Solsiden barnehage, sent the concern), ``caseworker`` (Barneverntjenesten,
receives it), and the outsiders ``nav_staff``, ``slt_staff`` and ``other_bh_staff`` (Eventyrskogen
barnehage). ``foreign_caseworker`` works for another municipality's barnevern.
"""
import uuid

import pytest
from django.http import Http404
from django.urls import reverse
from viewflow.workflow.status import STATUS

from referrals.access import concern_get_for_user
from referrals.models import Concern
from workflows.flows.concern import ConcernFlow
from workflows.concern import services as svc
from tests.factories import advance, make_consultation, make_melding, make_org

pytestmark = pytest.mark.django_db

OUTSIDERS = ["nav_staff", "slt_staff", "other_bh_staff"]
ACTION_DATA = {
    "receipt": {},
    "review": {"decision": "investigate", "justification": ""},
    "extend": {"reason": "Trenger mer tid", "until": ""},
    "conclude": {"outcome": "measures", "summary": ""},
    "feedback": {"kind": "initial", "message": "Mottatt."},
    "answer": {"advice": "Snakk med foreldrene."},
}
PROCESS_URLS = ["process_detail", "process_chart", "process_cancel"]
TASK_URLS = ["index", "detail", "assign", "unassign", "execute", "cancel", "undo", "revive"]


@pytest.fixture
def melding(org):
    return make_melding(org)


def open_task(concern):
    return ConcernFlow.task_class.objects.get(process=concern.process, status=STATUS.NEW)


def done_start_task(concern):
    return ConcernFlow.task_class.objects.get(process=concern.process, flow_task=ConcernFlow.start)


def process_url(name, concern):
    return reverse(f"workflow:flows:concern:{name}", kwargs={"process_pk": concern.process.pk})


def task_url(name, task):
    return reverse(
        f"workflow:flows:concern:{task.flow_task.name}:{name}", kwargs={"process_pk": task.process_id, "task_pk": task.pk}
    )


class ConcernPagesOutsiderTests:
    @pytest.mark.parametrize("persona", OUTSIDERS)
    def test_it_hides_the_concern_page(self, client, org, melding, persona):
        client.force_login(getattr(org, persona))
        assert client.get(reverse("concerns:detail", args=[melding.code])).status_code == 404

    @pytest.mark.parametrize("persona", OUTSIDERS)
    def test_it_refuses_to_send_someone_elses_draft(self, client, org, persona):
        draft = make_melding(org, submit=False)
        client.force_login(getattr(org, persona))
        response = client.post(reverse("concerns:send", args=[draft.code]), {"version": ""})
        assert response.status_code == 404
        assert Concern.objects.get(pk=draft.pk).status == Concern.Status.DRAFT

    @pytest.mark.parametrize("persona", OUTSIDERS)
    @pytest.mark.parametrize("action", sorted(ACTION_DATA))
    def test_it_refuses_every_handling_action(self, client, org, melding, persona, action):
        client.force_login(getattr(org, persona))
        response = client.post(reverse("concerns:action", args=[melding.code, action]), ACTION_DATA[action])
        assert response.status_code == 404
        assert Concern.objects.get(pk=melding.pk).status == Concern.Status.SUBMITTED

    @pytest.mark.parametrize("persona", OUTSIDERS)
    @pytest.mark.parametrize("method", ["get", "post"])
    def test_it_hides_the_upgrade_page(self, client, org, persona, method):
        consultation = make_consultation(org)
        client.force_login(getattr(org, persona))
        response = getattr(client, method)(reverse("concerns:upgrade", args=[consultation.code]))
        assert response.status_code == 404

    @pytest.mark.parametrize("persona", OUTSIDERS)
    def test_it_hides_the_access_log(self, client, org, melding, persona):
        client.force_login(getattr(org, persona))
        assert client.get(reverse("concerns:log", args=[melding.code])).status_code == 404

    def test_it_hides_the_concern_from_another_municipalitys_barnevern(self, client, org, melding):
        foreign_caseworker = make_org(number="9997").caseworker
        client.force_login(foreign_caseworker)
        assert client.get(reverse("concerns:detail", args=[melding.code])).status_code == 404

    def test_it_lets_the_receiving_caseworker_act(self, client, org, melding):
        client.force_login(org.caseworker)
        # With the version the page rendered: a form without one is refused as stale.
        data = {**ACTION_DATA["receipt"], "version": svc.concern_version(melding)}
        response = client.post(reverse("concerns:action", args=[melding.code, "receipt"]), data)
        assert response.status_code == 302
        assert Concern.objects.get(pk=melding.pk).status == Concern.Status.RECEIVED


class FlowPagesOutsiderTests:
    @pytest.mark.parametrize("persona", [*OUTSIDERS, "reporter"])
    @pytest.mark.parametrize("name", PROCESS_URLS)
    def test_it_hides_the_process_pages(self, client, org, melding, persona, name):
        client.force_login(getattr(org, persona))
        assert client.get(process_url(name, melding)).status_code == 404

    @pytest.mark.parametrize("persona", [*OUTSIDERS, "reporter"])
    @pytest.mark.parametrize("name", TASK_URLS)
    def test_it_hides_the_open_task_pages(self, client, org, melding, persona, name):
        client.force_login(getattr(org, persona))
        assert client.get(task_url(name, open_task(melding))).status_code == 404

    @pytest.mark.parametrize("persona", [*OUTSIDERS, "reporter"])
    @pytest.mark.parametrize("name", ["assign", "execute", "cancel"])
    def test_it_refuses_to_work_the_open_task(self, client, org, melding, persona, name):
        task = open_task(melding)
        client.force_login(getattr(org, persona))
        assert client.post(task_url(name, task), {}).status_code == 404
        task.refresh_from_db()
        assert (task.status, task.owner_id) == (STATUS.NEW, None)
        assert Concern.objects.get(pk=melding.pk).status == Concern.Status.SUBMITTED

    @pytest.mark.parametrize("persona", [*OUTSIDERS, "reporter"])
    @pytest.mark.parametrize("name", ["index", "detail"])
    def test_it_hides_the_finished_task_pages(self, client, org, melding, persona, name):
        client.force_login(getattr(org, persona))
        assert client.get(task_url(name, done_start_task(melding))).status_code == 404

    @pytest.mark.parametrize("persona", OUTSIDERS)
    def test_it_leaves_the_task_out_of_an_outsiders_bulk_assign_page(self, client, org, melding, persona):
        client.force_login(getattr(org, persona))
        response = client.post(reverse("workflow:tasks_assign"), {"pk": [open_task(melding).pk]})
        assert melding.reference.encode() not in response.content

    @pytest.mark.parametrize("persona", OUTSIDERS)
    def test_it_refuses_an_outsiders_bulk_assign_of_the_task(self, client, org, melding, persona):
        task = open_task(melding)
        client.force_login(getattr(org, persona))
        client.post(reverse("workflow:tasks_assign"), {"pk": [task.pk], "_confirm": "confirm"})
        task.refresh_from_db()
        assert (task.status, task.owner_id) == (STATUS.NEW, None)

    def test_it_lets_the_caseworker_bulk_assign_the_task(self, client, org, melding):
        task = open_task(melding)
        client.force_login(org.caseworker)
        client.post(reverse("workflow:tasks_assign"), {"pk": [task.pk], "_confirm": "confirm"})
        task.refresh_from_db()
        assert (task.status, task.owner_id) == (STATUS.ASSIGNED, org.caseworker.pk)

    @pytest.mark.parametrize("persona", OUTSIDERS)
    def test_it_refuses_an_outsiders_bulk_unassign_of_the_task(self, client, org, melding, persona):
        task = open_task(melding)
        client.force_login(org.caseworker)
        client.post(reverse("workflow:tasks_assign"), {"pk": [task.pk], "_confirm": "confirm"})
        client.force_login(getattr(org, persona))
        response = client.post(reverse("workflow:tasks_unassign"), {"pk": [task.pk], "_confirm": "confirm"})
        assert response.status_code in (302, 403, 404)
        task.refresh_from_db()
        assert (task.status, task.owner_id) == (STATUS.ASSIGNED, org.caseworker.pk)

    def test_it_hides_the_process_from_another_municipalitys_barnevern(self, client, org, melding):
        client.force_login(make_org(number="9997").caseworker)
        assert client.get(process_url("process_detail", melding)).status_code == 404

    @pytest.mark.parametrize("name", ["process_detail", "process_chart"])
    def test_it_shows_the_process_pages_to_the_receiving_caseworker(self, client, org, melding, name):
        client.force_login(org.caseworker)
        assert client.get(process_url(name, melding)).status_code == 200

    @pytest.mark.parametrize("name", ["detail", "assign"])
    def test_it_shows_the_open_task_to_the_receiving_caseworker(self, client, org, melding, name):
        client.force_login(org.caseworker)
        assert client.get(task_url(name, open_task(melding))).status_code == 200


class ForgedAddressTests:
    @pytest.mark.parametrize("name", ["concerns:detail", "concerns:log", "concerns:upgrade"])
    def test_it_answers_404_to_a_random_code(self, client, org, melding, name):
        client.force_login(org.bv_leader)
        assert client.get(reverse(name, args=[uuid.uuid4()])).status_code == 404

    def test_it_answers_404_to_an_action_on_a_random_code(self, client, org, melding):
        client.force_login(org.caseworker)
        response = client.post(reverse("concerns:action", args=[uuid.uuid4(), "receipt"]), {})
        assert response.status_code == 404

    @pytest.mark.parametrize("path", ["/concerns/not-a-uuid/", "/concerns/12345/logg/", "/concerns/%27%20or%201=1/"])
    def test_it_answers_404_not_500_to_a_malformed_code(self, client, org, path):
        client.force_login(org.caseworker)
        assert client.get(path).status_code == 404

    @pytest.mark.parametrize("code", ["not-a-uuid", "", None, "0" * 40])
    def test_it_raises_404_from_the_access_helper_for_a_malformed_code(self, org, code):
        with pytest.raises(Http404):
            concern_get_for_user(org.caseworker, code)

    def test_it_answers_404_to_an_unknown_process(self, client, org, melding):
        client.force_login(org.caseworker)
        url = reverse("workflow:flows:concern:process_detail", kwargs={"process_pk": melding.process.pk + 1000})
        assert client.get(url).status_code == 404

    def test_it_answers_404_to_a_task_of_another_process(self, client, org, melding):
        foreign = make_org(number="9997")
        other = make_melding(foreign)
        client.force_login(org.caseworker)
        task = open_task(other)
        url = reverse(
            "workflow:flows:concern:receipt:detail", kwargs={"process_pk": melding.process.pk, "task_pk": task.pk}
        )
        assert client.get(url).status_code == 404


class ReporterViewTests:
    def test_it_never_shows_the_reporter_the_review_justification(self, client, org):
        concern = advance(make_melding(org), org, "received")
        svc.concern_review(concern=concern, user=org.caseworker, decision="close", justification="HEMMELIG-BEGRUNNELSE")
        client.force_login(org.reporter)
        assert b"HEMMELIG-BEGRUNNELSE" not in client.get(reverse("concerns:detail", args=[concern.code])).content

    def test_it_never_shows_the_reporter_the_investigation_summary(self, client, org):
        concern = advance(make_melding(org), org, "investigating")
        svc.concern_conclude_investigation(concern=concern, user=org.caseworker, outcome="measures", summary="HEMMELIG-OPPSUMMERING")
        client.force_login(org.reporter)
        assert b"HEMMELIG-OPPSUMMERING" not in client.get(reverse("concerns:detail", args=[concern.code])).content

    def test_it_never_shows_the_reporter_the_reason_for_an_extension(self, client, org):
        concern = advance(make_melding(org), org, "investigating")
        svc.concern_extend_investigation(concern=concern, user=org.caseworker, reason="HEMMELIG-FORLENGELSE")
        client.force_login(org.reporter)
        assert b"HEMMELIG-FORLENGELSE" not in client.get(reverse("concerns:detail", args=[concern.code])).content

    def test_it_shows_the_caseworker_the_justification_and_summary(self, client, org):
        concern = advance(make_melding(org), org, "received")
        svc.concern_review(concern=concern, user=org.caseworker, decision="investigate", justification="INTERN-BEGRUNNELSE")
        svc.concern_conclude_investigation(concern=concern, user=org.caseworker, outcome="measures", summary="INTERN-OPPSUMMERING")
        client.force_login(org.caseworker)
        content = client.get(reverse("concerns:detail", args=[concern.code])).content
        assert b"INTERN-BEGRUNNELSE" in content and b"INTERN-OPPSUMMERING" in content


class ListScopeTests:
    @pytest.mark.parametrize("persona", OUTSIDERS)
    def test_it_leaves_the_concern_out_of_an_outsiders_intake_list(self, client, org, melding, persona):
        client.force_login(getattr(org, persona))
        for view in ("frister", "alle"):
            response = client.get(reverse("concerns:intake"), {"vis": view})
            assert response.status_code == 200
            assert melding.reference.encode() not in response.content

    @pytest.mark.parametrize("persona", OUTSIDERS)
    def test_it_leaves_the_concern_out_of_an_outsiders_own_concerns(self, client, org, melding, persona):
        client.force_login(getattr(org, persona))
        response = client.get(reverse("concerns:index"))
        assert response.status_code == 200
        assert melding.reference.encode() not in response.content

    def test_it_lists_the_concern_in_barneverns_intake(self, client, org, melding):
        client.force_login(org.caseworker)
        assert melding.reference.encode() in client.get(reverse("concerns:intake")).content

    def test_it_lists_the_concern_in_the_reporters_own_concerns(self, client, org, melding):
        client.force_login(org.reporter)
        assert melding.reference.encode() in client.get(reverse("concerns:index")).content

    def test_it_leaves_the_concern_out_of_another_municipalitys_intake(self, client, org, melding):
        client.force_login(make_org(number="9997").caseworker)
        assert melding.reference.encode() not in client.get(reverse("concerns:intake"), {"vis": "alle"}).content

    def test_it_leaves_a_draft_out_of_barneverns_intake(self, client, org):
        draft = make_melding(org, submit=False)
        client.force_login(org.caseworker)
        assert draft.reference.encode() not in client.get(reverse("concerns:intake"), {"vis": "alle"}).content

    @pytest.mark.parametrize("persona", OUTSIDERS)
    def test_it_leaves_the_task_out_of_an_outsiders_queue(self, client, org, melding, persona):
        client.force_login(getattr(org, persona))
        response = client.get(reverse("workflow:queue"))
        assert task_url("index", open_task(melding)).encode() not in response.content

    def test_it_puts_the_task_in_the_caseworkers_queue(self, client, org, melding):
        client.force_login(org.caseworker)
        response = client.get(reverse("workflow:queue"))
        assert task_url("index", open_task(melding)).encode() in response.content
