"""The referral, contact, catalogue, coordinator and statistics pages (issue #3, P6).

Personas: see tests/referral_factories.py. Outsiders (NAV, SLT, another barnehage) and staff of
an unrelated catalogue service must get 404 on every object URL, exactly like a forged code.
"""
import csv
import datetime
import io
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AccessLog
from consent.models import LegalBasis
from referrals.access import referral_roles
from referrals.models import Contact, Referral
from people.validators import synthetic_national_id
from tests.referral_factories import make_consent, make_contact, make_referral, make_referral_org
from workflows.referral import selectors as selectors
from workflows.referral import services as svc

pytestmark = pytest.mark.django_db

ACTIONS = ["receive", "decide", "progress", "close", "notes", "route", "forward", "cancel"]


@pytest.fixture
def ro(db):
    return make_referral_org()


@pytest.fixture
def client(client):
    # The assertions read the English source strings: the user has chosen English.
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _object_urls(referral, contact):
    get = [
        reverse("referrals:detail", args=[referral.code]),
        reverse("referrals:contact_detail", args=[contact.code]),
        reverse("referrals:create", args=[contact.code]),
        reverse("referrals:catalogue") + f"?kontakt={contact.code}",
    ]
    post = [reverse("referrals:action", args=[referral.code, a]) for a in ACTIONS] + [
        reverse("referrals:contact_identify", args=[contact.code]),
        reverse("referrals:contact_consent", args=[contact.code]),
        reverse("referrals:create", args=[contact.code]),
    ]
    return get, post


class ReferralPagesRenderTests:
    def test_it_renders_every_page_for_the_users_who_use_it(self, client, ro):
        contact = make_contact(ro)
        direct = make_referral(ro, contact=contact)
        queued = make_referral(ro, contact=contact, via_coordinator=True)
        client.force_login(ro.sender)
        for url in [
            reverse("referrals:index"), reverse("referrals:catalogue"), reverse("referrals:contact_create"),
            reverse("referrals:contacts"), reverse("referrals:contact_detail", args=[contact.code]),
            reverse("referrals:create", args=[contact.code]), reverse("referrals:detail", args=[direct.code]),
            reverse("referrals:stats"), reverse("referrals:catalogue") + f"?kontakt={contact.code}&kind=housing",
        ]:
            assert client.get(url).status_code == 200, url
        assert direct.reference.encode() in client.get(reverse("referrals:index")).content

        client.force_login(ro.tildeling_staff)
        response = client.get(reverse("referrals:incoming"))
        assert response.status_code == 200 and direct.reference.encode() in response.content
        assert client.get(reverse("referrals:detail", args=[direct.code])).status_code == 200

        client.force_login(ro.coordinator)
        response = client.get(reverse("referrals:coordinator"))
        assert response.status_code == 200 and queued.reference.encode() in response.content
        response = client.get(reverse("referrals:coordinator_list") + "?status=requested&alder=26-40")
        assert response.status_code == 200 and queued.reference.encode() in response.content
        assert client.get(reverse("referrals:detail", args=[queued.code])).status_code == 200


class OutsiderTests:
    def test_it_answers_404_to_outsiders_on_every_referral_and_contact_url(self, client, ro):
        contact = make_contact(ro)
        referral = make_referral(ro, contact=contact, via_coordinator=True)
        svc.referral_route(referral=referral, user=ro.coordinator, target_service=ro.tildeling)
        get, post = _object_urls(referral, contact)
        # rask_staff works in a catalogue service that has nothing to do with this referral.
        for name, user in {**ro.outsiders, "rask_staff": ro.rask_staff}.items():
            client.force_login(user)
            for url in get:
                assert client.get(url).status_code == 404, (name, url)
            for url in post:
                assert client.post(url, {"reason": "x", "cancel-reason": "x"}).status_code == 404, (name, url)
        assert Referral.objects.count() == 1
        assert Referral.objects.get().status == Referral.Status.REQUESTED

    def test_it_answers_404_to_a_forged_or_malformed_code(self, client, ro):
        make_referral(ro)
        client.force_login(ro.sender)
        forged = uuid.uuid4()
        for url in [
            reverse("referrals:detail", args=[forged]), reverse("referrals:contact_detail", args=[forged]),
            reverse("referrals:create", args=[forged]), reverse("referrals:catalogue") + f"?kontakt={forged}",
            reverse("referrals:catalogue") + "?kontakt=not-a-code", "/referrals/not-a-code/",
        ]:
            assert client.get(url).status_code == 404, url
        assert client.post(reverse("referrals:action", args=[forged, "cancel"])).status_code == 404

    def test_it_answers_404_when_the_role_does_not_fit_the_action(self, client, ro):
        referral = make_referral(ro)
        client.force_login(ro.sender)
        assert client.post(reverse("referrals:action", args=[referral.code, "receive"])).status_code == 404
        client.force_login(ro.tildeling_staff)
        assert client.post(reverse("referrals:action", args=[referral.code, "cancel"])).status_code == 404
        assert client.post(reverse("referrals:action", args=[referral.code, "no-such-action"])).status_code == 404
        referral.refresh_from_db()
        assert referral.status == Referral.Status.REQUESTED

    def test_it_answers_404_to_others_than_coordinators_on_the_coordinator_pages(self, client, ro):
        for user in [ro.sender, ro.tildeling_staff, ro.org.nav_staff]:
            client.force_login(user)
            assert client.get(reverse("referrals:coordinator")).status_code == 404
            assert client.get(reverse("referrals:coordinator_list")).status_code == 404

    def test_it_keeps_the_declined_referral_closed_to_the_next_service_in_the_chain(self, client, ro):
        """After a decline and a forward, the next service opens only its own referral."""
        referral = make_referral(ro, via_coordinator=True)
        svc.referral_route(referral=referral, user=ro.coordinator, target_service=ro.tildeling)
        svc.referral_receive(referral=referral, user=ro.tildeling_staff)
        svc.referral_decline(referral=referral, user=ro.tildeling_staff, reason="Trenger kartlegging først.")
        new = svc.referral_forward(referral=referral, user=ro.coordinator, target_service=ro.rask)
        client.force_login(ro.rask_staff)
        assert client.get(reverse("referrals:detail", args=[new.code])).status_code == 200
        assert client.get(reverse("referrals:detail", args=[referral.code])).status_code == 404


class ClosedLoopTests:
    def test_it_never_shows_the_receiver_notes_to_the_sender_or_the_coordinator(self, client, ro):
        referral = make_referral(ro, via_coordinator=True)
        svc.referral_route(referral=referral, user=ro.coordinator, target_service=ro.tildeling)
        svc.referral_receive(referral=referral, user=ro.tildeling_staff)
        secret = "Intern vurdering: tidligere kjent for tildelingskontoret."
        client.force_login(ro.tildeling_staff)
        response = client.post(reverse("referrals:action", args=[referral.code, "notes"]), {"notes-notes": secret})
        assert response.status_code == 302
        assert secret in client.get(reverse("referrals:detail", args=[referral.code])).content.decode()
        svc.referral_accept(referral=referral, user=ro.tildeling_staff)
        svc.referral_close(referral=referral, user=ro.tildeling_staff, completed=True, outcome="Kommunal bolig tildelt.")
        for user in [ro.sender, ro.coordinator]:
            client.force_login(user)
            page = client.get(reverse("referrals:detail", args=[referral.code])).content.decode()
            assert secret not in page
            assert "Kommunal bolig tildelt." in page
            assert 'data-testid="handling"' not in page

    def test_it_shows_the_sender_every_status_with_reasons_and_the_outcome(self, client, ro):
        referral = make_referral(ro)
        svc.referral_receive(referral=referral, user=ro.tildeling_staff)
        svc.referral_accept(referral=referral, user=ro.tildeling_staff)
        svc.referral_set_progress(referral=referral, user=ro.tildeling_staff, status=Referral.Status.ON_HOLD, reason="Venter på legeerklæring.")
        svc.referral_set_progress(referral=referral, user=ro.tildeling_staff, status=Referral.Status.IN_PROGRESS)
        svc.referral_close(referral=referral, user=ro.tildeling_staff, completed=False, outcome="Personen møtte ikke.")
        client.force_login(ro.sender)
        page = client.get(reverse("referrals:detail", args=[referral.code])).content.decode()
        for status in ["requested", "received", "accepted", "on-hold", "in-progress", "failed"]:
            assert f'data-status="{status}"' in page, status
        assert "Venter på legeerklæring." in page and "Personen møtte ikke." in page

    def test_it_writes_an_access_log_row_for_each_read_of_the_referral_page(self, client, ro):
        referral = make_referral(ro)
        client.force_login(ro.tildeling_staff)
        client.get(reverse("referrals:detail", args=[referral.code]))
        row = AccessLog.objects.filter(object_type="referrals.referral", object_id=referral.pk, action="view").get()
        assert row.user == ro.tildeling_staff and row.service == ro.tildeling and row.person_id == referral.person_id


class SendReferralViewTests:
    def _post(self, client, contact, **data):
        return client.post(reverse("referrals:create", args=[contact.code]), {
            "destination": "service", "kind": "housing", "reason": "Trenger bolig.", "basis": "consent", **data,
        })

    def test_it_shows_eligibility_errors_and_sends_nothing(self, client, ro):
        contact = make_contact(ro, age=15)
        client.force_login(ro.sender)
        basis = LegalBasis.objects.create(code="test-basis", statute="Testloven", paragraph="§ 1", title="Deling for test",
                                          purposes=["referral"], recipient_kinds=["other"])
        response = self._post(client, contact, target_service=ro.tildeling.pk, basis="statutory", legal_basis=basis.pk)
        assert response.status_code == 422
        # Tildelingskontoret (18+) is not offered for a 15-year-old: the forged choice is refused.
        assert "only a service in the catalogue that takes this kind of referral" in response.content.decode()
        assert not Referral.objects.exists()

    def test_it_refuses_without_a_consent_covering_the_recipient_and_shares_nothing(self, client, ro):
        contact = make_contact(ro)
        consent = make_consent(ro, contact.person, grantees=[ro.rus])
        client.force_login(ro.sender)
        response = self._post(client, contact, target_service=ro.tildeling.pk, consent=consent.pk)
        assert response.status_code == 422
        assert "does not cover sharing with Tildelingskontoret" in response.content.decode()
        assert not Referral.objects.exists()

    def test_it_sends_to_the_routing_queue_on_consent(self, client, ro):
        contact = make_contact(ro)
        consent = make_consent(ro, contact.person)
        client.force_login(ro.sender)
        response = self._post(client, contact, destination="coordinator", routing_service=ro.rus.pk, consent=consent.pk, kind="substance")
        referral = Referral.objects.get()
        assert response.status_code == 302 and response["Location"] == reverse("referrals:detail", args=[referral.code])
        assert referral.routing_service == ro.rus and referral.target_service is None and referral.consent == consent


class ContactViewTests:
    def test_it_registers_a_minimal_contact_and_identifies_it_later(self, client, ro):
        client.force_login(ro.sender)
        response = client.post(reverse("referrals:contact_create"), {"service": ro.radgivning.pk, "given_name": "Per", "approx_age": 40})
        contact = Contact.objects.get()
        assert response.status_code == 302 and str(contact.code) in response["Location"]
        assert contact.person.approx_age == 40 and not contact.person.national_id
        number = synthetic_national_id(datetime.date(1985, 4, 2))
        response = client.post(reverse("referrals:contact_identify", args=[contact.code]), {"national_id": number, "family_name": "Hansen"})
        assert response.status_code == 302
        contact.refresh_from_db()
        assert contact.person.national_id == number and contact.person.family_name == "Hansen"
        assert number not in response["Location"]

    def test_it_rerenders_the_contact_form_with_422_when_the_age_is_missing(self, client, ro):
        client.force_login(ro.sender)
        response = client.post(reverse("referrals:contact_create"), {"service": ro.radgivning.pk, "given_name": "Per"})
        assert response.status_code == 422
        assert not Contact.objects.exists()

    def test_it_lists_the_newest_consents_and_links_the_persons_page_for_the_rest(self, client, ro):
        from workflows.referral.views import CONTACT_CONSENTS

        contact = make_contact(ro)
        consents = [make_consent(ro, contact.person) for _ in range(CONTACT_CONSENTS)]
        client.force_login(ro.sender)
        url = reverse("referrals:contact_detail", args=[contact.code])
        page = client.get(url)
        assert [c.pk for c in page.context["consents"]] == [c.pk for c in reversed(consents)]
        assert 'data-testid="more-consents"' not in page.content.decode()
        newest = make_consent(ro, contact.person)
        page = client.get(url)
        shown = [c.pk for c in page.context["consents"]]
        assert len(shown) == CONTACT_CONSENTS and shown[0] == newest.pk and consents[0].pk not in shown
        html = page.content.decode()
        assert 'data-testid="more-consents"' in html and reverse("consent:person", args=[contact.person.code]) in html

    def test_it_records_a_consent_on_the_contact_page(self, client, ro):
        contact = make_contact(ro)
        client.force_login(ro.sender)
        response = client.post(reverse("referrals:contact_consent", args=[contact.code]), {
            "purpose": "referral", "grantees": [ro.rus.pk, ro.rask.pk], "information": "Navn og alder.",
            "given_by_person": "on", "domain": "health", "method": "verbal", "valid_from": datetime.date.today().isoformat(),
        })
        assert response.status_code == 302
        consent = contact.person.consents.get()
        assert set(consent.grantees.all()) == {ro.rus, ro.rask}


class StatisticsTests:
    def test_it_exports_counts_without_names_or_identity_numbers(self, client, ro):
        contact = make_contact(ro, given="Kari")
        number = synthetic_national_id(datetime.date(1990, 6, 1))
        svc.person_identify(user=ro.sender, contact=contact, national_id=number, family_name="Nordmann")
        referral = make_referral(ro, contact=Contact.objects.get(pk=contact.pk))
        svc.referral_receive(referral=referral, user=ro.tildeling_staff)
        make_contact(ro, given="Ola")
        client.force_login(ro.sender)
        for table in ["henvisninger", "kontakter"]:
            response = client.get(reverse("referrals:stats_csv", args=[table]))
            assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
            text = b"".join(response.streaming_content).decode("utf-8-sig")
            for identifying in ["Kari", "Nordmann", "Ola", number, number[:6], str(contact.code), referral.reference]:
                assert identifying not in text, (table, identifying)
            rows = list(csv.reader(io.StringIO(text), delimiter=";"))
            assert len(rows) >= 2
        contacts = list(csv.reader(io.StringIO(b"".join(client.get(reverse("referrals:stats_csv", args=["kontakter"])).streaming_content).decode("utf-8-sig")), delimiter=";"))
        assert contacts[1][1:6] == ["Rådgivning rus og psykisk helse", "2", "1", "Tildelingskontoret", "1"]

    def test_it_answers_404_for_an_unknown_table_and_to_users_without_a_service(self, client, ro):
        from tests.factories import make_user

        client.force_login(ro.sender)
        assert client.get(reverse("referrals:stats_csv", args=["personer"])).status_code == 404
        client.force_login(make_user())
        assert client.get(reverse("referrals:stats")).status_code == 404
        assert client.get(reverse("referrals:stats_csv", args=["kontakter"])).status_code == 404

    def test_it_counts_only_the_referrals_of_the_users_services(self, ro):
        make_referral(ro)
        assert selectors.stats_referrals_by_destination(ro.org.nav_staff) == []
        rows = selectors.stats_referrals_by_destination(ro.tildeling_staff)
        assert [(r["service"], r["total"]) for r in rows] == [("Tildelingskontoret", 1)]


class KeysetListTests:
    def test_it_pages_the_sent_list_by_keyset_without_offset(self, ro):
        contact = make_contact(ro)
        consent = make_consent(ro, contact.person)
        made = [make_referral(ro, contact=contact, consent=consent) for _ in range(3)]
        with CaptureQueriesContext(connection) as queries:
            first = selectors.referral_sent_list(ro.sender, page_size=2)
        assert first.next_cursor and [r.pk for r in first] == [made[2].pk, made[1].pk]
        second = selectors.referral_sent_list(ro.sender, cursor=first.next_cursor, page_size=2)
        assert [r.pk for r in second] == [made[0].pk] and second.next_cursor is None
        assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)

    def test_it_lists_referrals_at_risk_of_a_deadline(self, ro):
        import time_machine

        referral = make_referral(ro, via_coordinator=True)
        assert selectors.referral_at_risk_list(ro.coordinator).rows == []
        with time_machine.travel(referral.next_deadline_at - datetime.timedelta(hours=2)):
            rows = selectors.referral_at_risk_list(ro.coordinator).rows
        assert [r.pk for r in rows] == [referral.pk]

    def test_it_counts_the_coordinators_referrals_by_status_and_age_band(self, ro):
        make_referral(ro, via_coordinator=True, contact=make_contact(ro, age=20))
        make_referral(ro, via_coordinator=True, contact=make_contact(ro, age=70))
        counts = selectors.coordinator_counts(ro.coordinator)
        requested = next(row for row in counts["rows"] if row[0] == Referral.Status.REQUESTED)
        assert requested[2]["18-25"] == 1 and requested[2]["65+"] == 1 and requested[3] == 2
        assert counts["total"] == 2

    def test_it_counts_no_referral_that_awaits_a_leaders_approval_before_reaching_the_coordinator(self, ro):
        make_referral(ro, via_coordinator=True, contact=make_contact(ro, age=20))
        basis = LegalBasis.objects.create(code="test-approval", statute="Forvaltningsloven", paragraph="§ 13 b første ledd nr. 5",
                                          title="Til annet forvaltningsorgan", purposes=["referral"], recipient_kinds=["rustjeneste"],
                                          requires_approval=True)
        contact = make_contact(ro, age=30)
        waiting = svc.referral_send(user=ro.sender, sender_service=ro.radgivning, person=contact.person, kind="substance",
                                    reason="Rusbruk.", routing_service=ro.rus, basis="statutory", legal_basis=basis, contact=contact)
        assert waiting.status == Referral.Status.REQUESTED and "router" not in referral_roles(ro.coordinator, waiting)

        counts = selectors.coordinator_counts(ro.coordinator)

        assert counts["total"] == 1 and counts["totals"]["26-40"] == 0


class SenderActionTests:
    def test_it_lets_the_sender_forward_a_declined_referral_on_another_consent(self, client, ro):
        referral = make_referral(ro)
        svc.referral_receive(referral=referral, user=ro.tildeling_staff)
        svc.referral_decline(referral=referral, user=ro.tildeling_staff, reason="Ikke vår målgruppe.")
        consent = make_consent(ro, referral.person, grantees=[ro.rask])
        client.force_login(ro.sender)
        page = client.get(reverse("referrals:detail", args=[referral.code])).content.decode()
        assert 'data-testid="action-forward"' in page and 'data-testid="action-cancel"' not in page
        response = client.post(reverse("referrals:action", args=[referral.code, "forward"]), {
            "forward-target_service": ro.rask.pk, "forward-basis": "consent", "forward-consent": consent.pk,
        })
        new = Referral.objects.get(forwarded_from=referral)
        assert response.status_code == 302 and response["Location"] == reverse("referrals:detail", args=[new.code])
        assert new.target_service == ro.rask and new.consent == consent and new.sender_service == ro.radgivning

    def test_it_lets_the_sender_cancel_an_open_referral_with_a_reason(self, client, ro):
        referral = make_referral(ro)
        client.force_login(ro.sender)
        response = client.post(reverse("referrals:action", args=[referral.code, "cancel"]), {"cancel-reason": "Personen ombestemte seg."})
        assert response.status_code == 302
        referral.refresh_from_db()
        assert referral.status == Referral.Status.CANCELLED and referral.status_reason == "Personen ombestemte seg."

    def test_it_rerenders_the_page_with_422_and_logs_the_read_when_a_decline_has_no_reason(self, client, ro):
        referral = make_referral(ro)
        svc.referral_receive(referral=referral, user=ro.tildeling_staff)
        client.force_login(ro.tildeling_staff)
        response = client.post(reverse("referrals:action", args=[referral.code, "decide"]), {"decide-decision": "decline"})
        assert response.status_code == 422
        assert "Give the reason for declining; the sender will see it." in response.content.decode()
        assert AccessLog.objects.filter(object_type="referrals.referral", object_id=referral.pk, action="view", user=ro.tildeling_staff).exists()
        referral.refresh_from_db()
        assert referral.status == Referral.Status.RECEIVED


class TaskPageTests:
    """viewflow's task pages of the referral flow use the same forms and services as the referral page."""

    def _task(self, referral, node):
        from workflows.flows.referral import ReferralFlow

        return ReferralFlow.task_class.objects.get(process=referral.process, flow_task=getattr(ReferralFlow, node))

    def test_it_routes_and_receives_through_the_task_pages(self, client, ro):
        referral = make_referral(ro, via_coordinator=True)
        task = self._task(referral, "route")
        kwargs = {"process_pk": referral.process.pk, "task_pk": task.pk}
        client.force_login(ro.coordinator)
        client.post(reverse("workflow:flows:referral:route:assign", kwargs=kwargs), {})
        assert client.get(reverse("workflow:flows:referral:route:execute", kwargs=kwargs)).status_code == 200
        response = client.post(reverse("workflow:flows:referral:route:execute", kwargs=kwargs), {"target_service": ro.tildeling.pk, "basis": "consent"})
        assert response.status_code == 302
        referral.refresh_from_db()
        assert referral.target_service == ro.tildeling

        task = self._task(referral, "receive")
        kwargs = {"process_pk": referral.process.pk, "task_pk": task.pk}
        client.force_login(ro.tildeling_staff)
        client.post(reverse("workflow:flows:referral:receive:assign", kwargs=kwargs), {})
        assert client.post(reverse("workflow:flows:referral:receive:execute", kwargs=kwargs), {}).status_code == 302
        referral.refresh_from_db()
        assert referral.status == Referral.Status.RECEIVED

    def test_it_answers_404_to_an_outsider_on_the_task_page(self, client, ro):
        referral = make_referral(ro, via_coordinator=True)
        task = self._task(referral, "route")
        kwargs = {"process_pk": referral.process.pk, "task_pk": task.pk}
        for user in [*ro.outsiders.values(), ro.sender, ro.tildeling_staff]:
            client.force_login(user)
            assert client.get(reverse("workflow:flows:referral:route:execute", kwargs=kwargs)).status_code == 404


class ConstantQueriesTests:
    def _queries(self, client, url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def test_it_renders_the_lists_with_as_many_queries_for_many_rows_as_for_few(self, client, ro):
        contact = make_contact(ro)
        consent = make_consent(ro, contact.person)
        pages = {
            ro.sender: [reverse("referrals:index"), reverse("referrals:contacts"), reverse("referrals:catalogue"), reverse("referrals:stats")],
            ro.coordinator: [reverse("referrals:coordinator"), reverse("referrals:coordinator_list")],
            ro.tildeling_staff: [reverse("referrals:incoming"), reverse("referrals:incoming") + "?vis=alle"],
        }

        def add_rows():
            for _ in range(3):
                make_referral(ro, contact=make_contact(ro), consent=None, via_coordinator=True)
                make_referral(ro, contact=contact, consent=consent)

        add_rows()
        before = {}
        for user, urls in pages.items():
            client.force_login(user)
            before.update({(user.pk, url): self._queries(client, url) for url in urls})
        add_rows()
        for user, urls in pages.items():
            client.force_login(user)
            for url in urls:
                assert self._queries(client, url) == before[(user.pk, url)], url
