"""A referral routed by a coordinator, declined, forwarded, accepted and completed, in real Chromium (P6).

Personas (tests/referral_factories.py): ``sender`` in Rådgivning rus og psykisk helse registers a
contact and sends it on consent to the routing queue of ``coordinator`` in Psykisk helse og rus;
``tildeling_staff`` declines with a reason; the coordinator forwards it; ``rask_staff`` accepts
and completes it; the sender sees every status and the outcome. axe-core checks each page on the way.
"""
import re

import pytest
from playwright.sync_api import expect

from consent.models import Consent, LegalBasis
from referrals.models import Contact, Referral, ReferralKind
from tests.e2e.support import exact, nb, screenshot
from tests.referral_factories import make_contact, make_referral, make_referral_org
from workflows.referral.forms import CloseForm, ConsentRecordForm, ContactForm, DecideForm, ForwardForm, NotesForm, ReferralForm, RouteForm

# The live server needs a transactional database; serialized_rollback brings back the rows the
# migrations seed (the deadline policies), which a flush between tests would otherwise remove.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


S = Referral.Status
DECLINE_REASON = "Personen må først kartlegges for rusbruk; søknad om bolig kommer etterpå."
OUTCOME = "Fem samtaler gjennomført. Videre oppfølging hos fastlegen."
NOTES = "Intern: kjent fra tidligere, møtte ikke i 2023."


def field(form, f):
    """The field whose label is ``f``'s label (Django adds a colon to text inputs' labels)."""
    return form.get_by_label(re.compile(rf"^\s*{re.escape(nb(f.label))}:?\s*$"))


def settled(page):
    """Wait until no snackbar of viewflow's scripts is fading in or out: axe-core measures colours
    mid-animation and reports them as low contrast. (The page's own messages are a banner only.)"""
    page.wait_for_function("() => !document.querySelector('.mdc-snackbar--opening, .mdc-snackbar--closing')")
    return page


def events(page):
    return page.get_by_test_id("timeline").get_by_test_id("event")


def open_referral(page, list_url, list_testid, referral):
    page.goto(list_url)
    table = page.get_by_test_id(list_testid)
    table.get_by_role("link", name=referral.reference, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(referral.reference)


class ReferralRoutingRoundTripTests:
    def test_it_routes_declines_forwards_and_closes_the_loop_back_to_the_sender(self, new_page, login, axe_scan):
        ro = make_referral_org()

        # --- The low-threshold service registers the contact (minimal identity) ------------------
        sender = login(new_page(), ro.sender.username)
        sender.goto("/referrals/kontakter/ny/")
        form = sender.get_by_test_id("contact-form")
        expect(form).to_be_visible()
        axe_scan(settled(sender), "the contact form")
        F = ContactForm.base_fields
        field(form, F["given_name"]).fill("Kari")
        field(form, F["approx_age"]).fill("34")
        field(form, F["summary"]).fill("Ønsker hjelp med alkohol og har mistet leiligheten.")
        form.get_by_role("button", name=nb("Register the contact")).click()
        expect(sender.get_by_test_id("person-name")).to_have_text("Kari")
        contact = Contact.objects.get(service=ro.radgivning)
        assert "Kari" not in sender.url

        # She consents, verbally, to sharing with the coordinator and the two likely services.
        consents = sender.get_by_test_id("consents")
        consents.get_by_text(nb("Record a consent"), exact=True).click()
        consent_form = sender.get_by_test_id("consent-form")
        C = ConsentRecordForm.base_fields
        grantees = consent_form.get_by_role("group", name=nb(C["grantees"].label))
        for service in (ro.rus, ro.tildeling, ro.rask):
            grantees.get_by_label(service.name, exact=True).check()
        consent_form.get_by_role("group", name=nb(C["method"].label)).get_by_label(exact(nb(Consent.Method.VERBAL.label))).check()
        expect(field(consent_form, C["given_by_person"])).to_be_checked()
        axe_scan(settled(sender), "the contact page with the consent form open")
        consent_form.get_by_role("button", name=nb("Record the consent")).click()
        expect(sender.get_by_test_id("consent-list").get_by_test_id("consent-status")).to_have_attribute("data-status", "active")
        expect(sender.get_by_test_id("consent-list")).to_contain_text(ro.tildeling.name)
        screenshot(sender, "referral-contact-page")
        axe_scan(settled(sender), "the contact page")

        # Where can she go? The catalogue, searched for this contact's age.
        sender.get_by_role("link", name=nb("Find a service for this person")).click()
        expect(sender.get_by_test_id("catalogue-contact")).to_contain_text(contact.reference)
        expect(sender.get_by_test_id("catalogue-results")).to_contain_text(ro.tildeling.name)
        screenshot(sender, "referral-catalogue")
        axe_scan(settled(sender), "the service catalogue")

        # --- She is sent to the coordinator's routing queue, on her consent ----------------------
        sender.goto(f"/referrals/kontakter/{contact.code}/henvis/")
        form = sender.get_by_test_id("referral-form")
        R = ReferralForm.base_fields
        form.get_by_role("group", name=nb(R["destination"].label)).get_by_label(exact(nb(R["destination"].choices[1][1]))).check()
        field(form, R["routing_service"]).select_option(label=ro.rus.name)
        field(form, R["kind"]).select_option(value=ReferralKind.SUBSTANCE)
        field(form, R["reason"]).fill("Trenger hjelp med alkohol og et sted å bo. Ønsker samtaler.")
        form.get_by_role("group", name=nb(R["basis"].label)).get_by_label(exact(nb(R["basis"].choices[0][1]))).check()
        field(form, R["consent"]).select_option(index=1)
        axe_scan(settled(sender), "the referral form")
        form.get_by_role("button", name=nb("Send the referral")).click()
        expect(sender.get_by_test_id("status")).to_have_text(nb(S.REQUESTED.label))
        first = Referral.objects.get()
        expect(sender.get_by_test_id("target")).to_contain_text(nb("Not yet routed: in the coordinator’s queue"))
        screenshot(sender, "referral-detail-sender-sent")
        axe_scan(settled(sender), "the sender's referral page")

        # --- The coordinator routes it to Tildelingskontoret ------------------------------------
        coordinator = login(new_page(), ro.coordinator.username)
        coordinator.goto("/referrals/koordinator/")
        expect(coordinator.get_by_test_id("routing-queue")).to_contain_text(first.reference)
        screenshot(coordinator, "referral-coordinator")
        axe_scan(settled(coordinator), "the coordinator's view")
        open_referral(coordinator, "/referrals/koordinator/", "routing-queue", first)
        route = coordinator.get_by_test_id("action-route")
        field(route, RouteForm.base_fields["target_service"]).select_option(label=ro.tildeling.name)
        axe_scan(settled(coordinator), "the coordinator's referral page")
        route.get_by_role("button", name=nb("Route")).click()
        expect(coordinator.get_by_test_id("target")).to_have_text(ro.tildeling.name)
        expect(coordinator.get_by_test_id("action-route")).to_have_count(0)

        # --- Tildelingskontoret receives it and declines with a reason --------------------------
        tildeling = login(new_page(), ro.tildeling_staff.username)
        tildeling.goto("/referrals/innkommende/")
        expect(tildeling.get_by_test_id("incoming-list")).to_contain_text(first.reference)
        axe_scan(settled(tildeling), "the incoming list")
        open_referral(tildeling, "/referrals/innkommende/", "incoming-list", first)
        expect(tildeling.get_by_test_id("handling")).to_be_visible()
        tildeling.get_by_test_id("action-receive").get_by_role("button", name=nb("Mark as received")).click()
        expect(tildeling.get_by_test_id("status")).to_have_text(nb(S.RECEIVED.label))
        decide = tildeling.get_by_test_id("action-decide")
        D = DecideForm.base_fields
        decide.get_by_role("group", name=nb(D["decision"].label)).get_by_label(exact(nb("Decline"))).check()
        # Without a reason the decline is refused, next to the field.
        decide.get_by_role("button", name=nb("Record the decision")).click()
        expect(tildeling.get_by_test_id("action-decide").get_by_test_id("form-errors")).to_contain_text(
            nb("Give the reason for declining; the sender will see it.")
        )
        axe_scan(settled(tildeling), "the handler's referral page with an error")
        decide = tildeling.get_by_test_id("action-decide")
        decide.get_by_role("group", name=nb(D["decision"].label)).get_by_label(exact(nb("Decline"))).check()
        field(decide, D["reason"]).fill(DECLINE_REASON)
        decide.get_by_role("button", name=nb("Record the decision")).click()
        expect(tildeling.get_by_test_id("status")).to_have_text(nb(S.REJECTED.label))
        screenshot(tildeling, "referral-detail-declined")

        # --- The coordinator forwards it to Rask psykisk helsehjelp -----------------------------
        coordinator.reload()
        expect(coordinator.get_by_test_id("status")).to_have_text(nb(S.REJECTED.label))
        expect(coordinator.get_by_test_id("timeline")).to_contain_text(DECLINE_REASON)
        forward = coordinator.get_by_test_id("action-forward")
        field(forward, ForwardForm.base_fields["target_service"]).select_option(label=ro.rask.name)
        axe_scan(settled(coordinator), "the coordinator's page of a declined referral")
        forward.get_by_role("button", name=nb("Forward")).click()
        expect(coordinator.get_by_test_id("target")).to_have_text(ro.rask.name)
        second = Referral.objects.get(forwarded_from=first)
        expect(coordinator.get_by_role("heading", level=1)).to_contain_text(second.reference)
        expect(coordinator.get_by_test_id("chain")).to_contain_text(first.reference)
        coordinator.goto(f"/referrals/koordinator/liste/?status={S.REJECTED.value}")
        expect(coordinator.get_by_test_id("coordinator-list")).to_contain_text(first.reference)
        axe_scan(settled(coordinator), "the coordinator's filtered list")

        # --- Rask psykisk helsehjelp accepts, works and completes it ----------------------------
        rask = login(new_page(), ro.rask_staff.username)
        open_referral(rask, "/referrals/innkommende/", "incoming-list", second)
        expect(rask.get_by_test_id("chain")).not_to_contain_text(ro.tildeling.name)
        rask.get_by_test_id("action-receive").get_by_role("button", name=nb("Mark as received")).click()
        expect(rask.get_by_test_id("status")).to_have_text(nb(S.RECEIVED.label))
        decide = rask.get_by_test_id("action-decide")
        decide.get_by_role("group", name=nb(D["decision"].label)).get_by_label(exact(nb("Accept"))).check()
        decide.get_by_role("button", name=nb("Record the decision")).click()
        expect(rask.get_by_test_id("status")).to_have_text(nb(S.ACCEPTED.label))
        notes = rask.get_by_test_id("action-notes")
        field(notes, NotesForm.base_fields["notes"]).fill(NOTES)
        notes.get_by_role("button", name=nb("Save the notes")).click()
        expect(rask.get_by_test_id("receiver-notes")).to_have_text(NOTES)
        progress = rask.get_by_test_id("action-progress")
        progress.get_by_label(exact(nb(S.IN_PROGRESS.label))).check()
        progress.get_by_role("button", name=nb("Change the status")).click()
        expect(rask.get_by_test_id("status")).to_have_text(nb(S.IN_PROGRESS.label))
        axe_scan(settled(rask), "the handler's referral page")
        close = rask.get_by_test_id("action-close")
        Cl = CloseForm.base_fields
        close.get_by_role("group", name=nb(Cl["result"].label)).get_by_label(exact(nb("Completed"))).check()
        field(close, Cl["outcome"]).fill(OUTCOME)
        close.get_by_role("button", name=nb("Close"), exact=True).click()
        expect(rask.get_by_test_id("status")).to_have_text(nb(S.COMPLETED.label))
        screenshot(rask, "referral-detail-handler-completed")

        # --- Back at Rådgivning: every status, the reason, the outcome; never the notes ----------
        sender.goto("/referrals/")
        sent = sender.get_by_test_id("sent-list")
        expect(sent.get_by_role("row").filter(has_text=first.reference)).to_contain_text(nb(S.REJECTED.label))
        expect(sent.get_by_role("row").filter(has_text=second.reference)).to_contain_text(nb(S.COMPLETED.label))
        axe_scan(settled(sender), "the sent list")
        sent.get_by_role("link", name=first.reference, exact=True).click()
        expect(sender.get_by_test_id("status")).to_have_text(nb(S.REJECTED.label))
        expect(events(sender)).to_have_count(5)
        for i, status in enumerate([S.REQUESTED, S.REQUESTED, S.RECEIVED, S.REJECTED, S.REJECTED]):
            expect(events(sender).nth(i)).to_have_attribute("data-status", status.value)
            expect(events(sender).nth(i)).to_contain_text(nb(status.label))
        expect(events(sender).nth(1)).to_contain_text(ro.tildeling.name)
        expect(events(sender).nth(3)).to_contain_text(DECLINE_REASON)
        expect(events(sender).nth(4)).to_contain_text(ro.rask.name)
        sender.get_by_test_id("chain").get_by_role("link", name=second.reference, exact=True).click()
        expect(sender.get_by_test_id("status")).to_have_text(nb(S.COMPLETED.label))
        statuses = [S.REQUESTED, S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED]
        expect(events(sender)).to_have_count(len(statuses))
        for i, status in enumerate(statuses):
            expect(events(sender).nth(i)).to_have_attribute("data-status", status.value)
            expect(events(sender).nth(i)).to_contain_text(nb(status.label))
            expect(events(sender).nth(i).locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
        expect(sender.get_by_test_id("outcome")).to_contain_text(OUTCOME)
        expect(sender.get_by_test_id("handling")).to_have_count(0)
        expect(sender.locator("body")).not_to_contain_text(NOTES)
        screenshot(sender, "referral-detail-sender-completed")
        axe_scan(settled(sender), "the sender's page of the completed referral")

        sender.goto("/referrals/statistikk/")
        expect(sender.get_by_test_id("stats-contacts")).to_contain_text(ro.radgivning.name)
        axe_scan(settled(sender), "the statistics page")


class ReferralFormErrorTests:
    def test_it_shows_why_a_service_cannot_take_the_referral_and_sends_nothing(self, page, login, axe_scan):
        ro = make_referral_org()
        LegalBasis.objects.create(code="e2e-basis", statute="Testloven", paragraph="§ 1", title="Deling for test",
                                  purposes=["referral"], recipient_kinds=["other"])
        # The form offers only services that take referrals at the person's age (issue 7, point 10);
        # the housing office takes adults, but not referrals about work.
        contact = make_contact(ro, given="Jonas", age=19)
        login(page, ro.sender.username)
        page.goto(f"/referrals/kontakter/{contact.code}/henvis/")
        form = page.get_by_test_id("referral-form")
        R = ReferralForm.base_fields
        field(form, R["target_service"]).select_option(label=ro.tildeling.name)
        field(form, R["kind"]).select_option(value=ReferralKind.WORK)
        field(form, R["reason"]).fill("Trenger arbeid.")
        form.get_by_role("group", name=nb(R["basis"].label)).get_by_label(exact(nb(R["basis"].choices[1][1]))).check()
        field(form, R["legal_basis"]).select_option(label="Testloven § 1: Deling for test")
        form.get_by_role("button", name=nb("Send the referral")).click()
        summary = page.get_by_test_id("form-errors")
        expect(summary).to_be_visible()
        expect(summary).to_contain_text(ro.tildeling.name)
        expect(field(form, R["target_service"])).to_have_attribute("aria-invalid", "true")
        axe_scan(settled(page), "the referral form with an eligibility error")
        assert not Referral.objects.exists()

    def test_it_lists_the_sent_and_incoming_referrals_accessibly(self, new_page, login, axe_scan):
        ro = make_referral_org()
        referral = make_referral(ro)
        handler = login(new_page(), ro.tildeling_staff.username)
        handler.goto("/referrals/innkommende/?vis=alle")
        expect(handler.get_by_test_id("incoming-list")).to_contain_text(referral.reference)
        axe_scan(settled(handler), "the incoming list, all")
        sender = login(new_page(), ro.sender.username)
        sender.goto("/referrals/kontakter/")
        expect(sender.get_by_test_id("contact-list")).to_contain_text(referral.contact.reference)
        axe_scan(settled(sender), "the contact list")
