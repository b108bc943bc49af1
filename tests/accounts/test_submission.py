"""One-time tokens on create forms (issue 12, point 3): a second send of the same form answers with the
first one's result, never a second concern, disclosure, contact or referral; a missing, forged or
another user's token is a form error and changes nothing.

Every post here goes through django.test.Client with the token the rendered page carried (read from
its HTML, as a browser sends it), or none: nothing adds one (compare tests/accounts/form_client.py).

Personas: ``reporter`` (Solsiden barnehage) sends meldinger; ``teacher`` (Fjordvik skole) is another
reporter, whose token must not work for the reporter; ``sender`` (a counselling service) registers
contacts and sends referrals (tests/referral_factories.py).
"""
import datetime
import re
import uuid

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import submission
from accounts.models import SubmissionToken
from consent.models import AccessRequest, Consent, Disclosure
from org.models import Service
from people.models import Person
from people.validators import synthetic_national_id
from referrals.models import BreakGlassAccess, Concern, Contact, Referral
from tests.consent.test_consent_views import valid_post
from tests.consent.ui_factories import guardians_for, person_aged, record
from tests.factories import make_consultation, make_melding, make_service, member
from tests.referral_factories import make_consent, make_contact, make_referral_org
from tests.workflows.concern.test_bad_input import melding_post
from workflows.concern import services as concern_svc

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="submission" value="([^"]+)"')


def browser(user) -> Client:
    """A logged-in client that reads English (the assertions read the source strings) and adds nothing."""
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def token_on(client, url) -> str:
    """The token the form on ``url`` carries, as the page renders it."""
    page = client.get(url)
    assert page.status_code == 200
    (token,) = TOKEN.findall(page.content.decode())
    return token


def flashed(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


class TokenTests:
    def test_it_reads_back_the_token_it_issued_for_the_user(self, org):
        token = submission.token_issue(org.reporter)
        assert isinstance(submission.token_read(token, user=org.reporter), uuid.UUID)

    def test_it_refuses_a_token_issued_for_another_user(self, org):
        token = submission.token_issue(org.teacher)
        with pytest.raises(ValidationError) as refused:
            submission.token_read(token, user=org.reporter)
        assert refused.value.code == "submission_invalid"

    @pytest.mark.parametrize("value", ["", None, "not-a-token", "0" * 32])
    def test_it_refuses_a_missing_or_made_up_token(self, org, value):
        with pytest.raises(ValidationError):
            submission.token_read(value, user=org.reporter)

    def test_it_refuses_a_token_whose_uuid_was_changed(self, org):
        token = submission.token_issue(org.reporter)
        forged = uuid.uuid4().hex + token[32:]
        with pytest.raises(ValidationError):
            submission.token_read(forged, user=org.reporter)

    def test_it_refuses_a_token_older_than_a_session_can_live(self, org):
        token = submission.token_issue(org.reporter)
        with time_machine.travel(timezone.now() + submission.token_max_age() + datetime.timedelta(minutes=1)):
            with pytest.raises(ValidationError) as refused:
                submission.token_read(token, user=org.reporter)
        assert refused.value.code == "submission_expired"


class _Form(submission.SubmissionFormMixin):
    pass


class ClaimTests:
    def test_it_leaves_no_row_when_the_create_fails_so_the_form_can_be_sent_again(self, org):
        data = {submission.FIELD: submission.token_issue(org.reporter)}
        form = _Form(data, submitted_by=org.reporter)
        assert form.is_valid()
        with pytest.raises(ValidationError):
            with submission.claim(form):
                raise ValidationError("refused")
        assert not SubmissionToken.objects.exists()
        with submission.claim(form) as sent:
            sent.leads_to("/meldinger/x/")
        assert SubmissionToken.objects.get().result_path == "/meldinger/x/"

    def test_it_raises_already_sent_with_the_first_result_for_a_used_token(self, org):
        form = _Form({submission.FIELD: submission.token_issue(org.reporter)}, submitted_by=org.reporter)
        assert form.is_valid()
        with submission.claim(form) as sent:
            sent.leads_to("/first/")
        ran = []
        with pytest.raises(submission.AlreadySent) as again:
            with submission.claim(form):
                ran.append(True)
        assert again.value.path == "/first/" and not ran

    def test_it_refuses_to_store_a_path_with_a_query_string(self, org):
        form = _Form({submission.FIELD: submission.token_issue(org.reporter)}, submitted_by=org.reporter)
        assert form.is_valid()
        with pytest.raises(ValueError):
            with submission.claim(form) as sent:
                sent.leads_to("/meldinger/?fnr=01010112345")
        assert not SubmissionToken.objects.exists()

    def test_it_deletes_the_users_rows_older_than_a_token_lives_after_a_send(self, org, django_capture_on_commit_callbacks):
        with time_machine.travel(timezone.now() - submission.token_max_age() - datetime.timedelta(hours=1)):
            old_mine = SubmissionToken.objects.create(token=uuid.uuid4(), user=org.reporter, result_path="/a/")
            old_theirs = SubmissionToken.objects.create(token=uuid.uuid4(), user=org.teacher, result_path="/b/")
        recent = SubmissionToken.objects.create(token=uuid.uuid4(), user=org.reporter, result_path="/c/")
        form = _Form({submission.FIELD: submission.token_issue(org.reporter)}, submitted_by=org.reporter)
        assert form.is_valid()
        with django_capture_on_commit_callbacks(execute=True):
            with submission.claim(form) as sent:
                sent.leads_to("/d/")
        left = set(SubmissionToken.objects.values_list("pk", flat=True))
        assert old_mine.pk not in left and {old_theirs.pk, recent.pk} <= left


class ConcernDoubleSendTests:
    def test_it_makes_one_concern_and_one_disclosure_and_answers_the_second_send_with_the_first(self, org):
        client = browser(org.reporter)
        data = {**melding_post(org), submission.FIELD: token_on(client, reverse("concerns:create"))}
        first = client.post(reverse("concerns:create"), data)
        concern = Concern.objects.get()
        assert first.status_code == 302 and first["Location"] == reverse("concerns:detail", args=[concern.code])
        second = client.post(reverse("concerns:create"), data, follow=True)
        assert second.redirect_chain == [(reverse("concerns:detail", args=[concern.code]), 302)]
        assert str(submission.ALREADY_SENT) in flashed(second)
        assert Concern.objects.count() == 1 and Person.objects.count() == 1
        assert Disclosure.objects.filter(to_service=org.barnevern).count() == 1

    def test_it_answers_a_second_send_of_a_draft_edit_with_the_sent_concern(self, org):
        draft = make_melding(org, submit=False)
        client = browser(org.reporter)
        url = reverse("concerns:edit", args=[draft.code])
        page = client.get(url)
        (token,) = TOKEN.findall(page.content.decode())
        data = {
            **melding_post(org), "version": concern_svc.concern_version(draft), submission.FIELD: token,
            "national_id": draft.person.national_id,
        }
        assert client.post(url, data).status_code == 302
        second = client.post(url, data, follow=True)
        assert second.redirect_chain == [(reverse("concerns:detail", args=[draft.code]), 302)]
        # The calm answer, not "this concern has been sent and can no longer be changed".
        assert str(submission.ALREADY_SENT) in flashed(second)
        assert "can no longer be changed" not in " ".join(flashed(second))
        assert Disclosure.objects.filter(subject_id=draft.pk).count() == 1

    def test_it_answers_a_second_upgrade_with_the_melding_the_first_made(self, org):
        consultation = make_consultation(org)
        client = browser(org.reporter)
        url = reverse("concerns:upgrade", args=[consultation.code])
        data = {
            "given_name": "Emma", "family_name": "Test", "national_id": melding_post(org)["national_id"], "birth_date": "",
            "parents_informed": "yes", "child_informed": "yes", "not_informed_reason": "", submission.FIELD: token_on(client, url),
        }
        first = client.post(url, data)
        melding = Concern.objects.get(upgraded_from=consultation)
        second = client.post(url, data)
        assert first.status_code == second.status_code == 302
        assert second["Location"] == first["Location"] == reverse("concerns:detail", args=[melding.code])
        assert Concern.objects.filter(upgraded_from=consultation).count() == 1

    def test_it_refuses_a_send_without_a_token_and_creates_nothing(self, org):
        client = browser(org.reporter)
        response = client.post(reverse("concerns:create"), melding_post(org))
        assert response.status_code == 422
        assert str(submission.NOT_VERIFIED) in response.content.decode()
        assert not Concern.objects.exists() and not Person.objects.exists()

    def test_it_refuses_another_users_token_and_creates_nothing(self, org):
        theirs = token_on(browser(org.teacher), reverse("concerns:create"))
        client = browser(org.reporter)
        response = client.post(reverse("concerns:create"), {**melding_post(org), submission.FIELD: theirs})
        assert response.status_code == 422
        assert str(submission.NOT_VERIFIED) in response.content.decode()
        assert not Concern.objects.exists() and not SubmissionToken.objects.exists()

    def test_it_shows_a_refused_form_again_with_a_fresh_token_that_sends(self, org):
        client = browser(org.reporter)
        refused = client.post(reverse("concerns:create"), {**melding_post(org), submission.FIELD: "forged"})
        (fresh,) = TOKEN.findall(refused.content.decode())
        assert fresh != "forged"
        response = client.post(reverse("concerns:create"), {**melding_post(org), submission.FIELD: fresh})
        assert response.status_code == 302 and Concern.objects.count() == 1

    def test_it_refuses_a_token_from_a_form_opened_too_long_ago(self, org):
        client = browser(org.reporter)
        token = token_on(client, reverse("concerns:create"))
        with time_machine.travel(timezone.now() + submission.token_max_age() + datetime.timedelta(minutes=1)):
            client.force_login(org.reporter)
            response = client.post(reverse("concerns:create"), {**melding_post(org), submission.FIELD: token})
        assert response.status_code == 422
        assert str(submission.TOO_OLD) in response.content.decode()
        assert not Concern.objects.exists()

    def test_it_sends_two_forms_opened_separately_as_two_concerns(self, org):
        client = browser(org.reporter)
        for _ in range(2):
            data = {**melding_post(org), submission.FIELD: token_on(client, reverse("concerns:create"))}
            assert client.post(reverse("concerns:create"), data).status_code == 302
        assert Concern.objects.count() == 2 and Person.objects.count() == 1


@pytest.fixture
def ro(db):
    return make_referral_org()


class ReferralDoubleSendTests:
    def test_it_registers_one_contact_and_answers_the_second_send_with_it(self, ro):
        client = browser(ro.sender)
        url = reverse("referrals:contact_create")
        data = {"service": ro.radgivning.pk, "given_name": "Per", "approx_age": 40, submission.FIELD: token_on(client, url)}
        first = client.post(url, data)
        contact = Contact.objects.get()
        second = client.post(url, data)
        assert second.status_code == 302 and second["Location"] == first["Location"]
        assert second["Location"] == reverse("referrals:contact_detail", args=[contact.code])
        assert Contact.objects.count() == 1 and Person.objects.count() == 1

    def test_it_sends_one_referral_with_one_disclosure_and_answers_the_second_send_with_it(self, ro):
        contact = make_contact(ro)
        consent = make_consent(ro, contact.person)
        client = browser(ro.sender)
        url = reverse("referrals:create", args=[contact.code])
        data = {
            "destination": "coordinator", "routing_service": ro.rus.pk, "kind": "substance", "reason": "Trenger hjelp.",
            "basis": "consent", "consent": consent.pk, submission.FIELD: token_on(client, url),
        }
        first = client.post(url, data)
        referral = Referral.objects.get()
        second = client.post(url, data, follow=True)
        assert first.status_code == 302
        assert second.redirect_chain == [(reverse("referrals:detail", args=[referral.code]), 302)]
        assert str(submission.ALREADY_SENT) in flashed(second)
        assert Referral.objects.count() == 1
        assert Disclosure.objects.filter(subject_id=referral.pk, to_service=ro.rus).count() == 1

    def test_it_records_one_consent_from_the_contact_page(self, ro):
        contact = make_contact(ro)
        client = browser(ro.sender)
        page = client.get(reverse("referrals:contact_detail", args=[contact.code])).content.decode()
        (token,) = TOKEN.findall(page)
        data = {
            "purpose": "referral", "grantees": [ro.rus.pk], "information": "Navn og alder.", "given_by_person": "on",
            "domain": "health", "method": "verbal", "valid_from": timezone.localdate().isoformat(), submission.FIELD: token,
        }
        url = reverse("referrals:contact_consent", args=[contact.code])
        assert client.post(url, data).status_code == 302
        assert client.post(url, data).status_code == 302
        assert contact.person.consents.count() == 1

    def test_it_refuses_a_referral_without_a_token_and_shares_nothing(self, ro):
        contact = make_contact(ro)
        consent = make_consent(ro, contact.person)
        client = browser(ro.sender)
        response = client.post(reverse("referrals:create", args=[contact.code]), {
            "destination": "coordinator", "routing_service": ro.rus.pk, "kind": "substance", "reason": "Trenger hjelp.",
            "basis": "consent", "consent": consent.pk,
        })
        assert response.status_code == 422
        assert str(submission.NOT_VERIFIED) in response.content.decode()
        assert not Referral.objects.exists()


class BreakGlassDoubleSendTests:
    def test_it_opens_one_emergency_access_and_answers_the_second_send_with_the_case(self, org):
        melding = make_melding(org)
        root = get_user_model().objects.create_superuser("root", "root@example.test", "pw")
        client = browser(root)
        url = reverse("break_glass:index")
        data = {
            "kind": "concern", "reference": f"https://samhandling.example/concerns/{melding.code}/", "minutes": 30,
            "justification": "Akutt: politiet melder at barnet er savnet, vakthavende trenger saken nå.",
            submission.FIELD: token_on(client, url),
        }
        first = client.post(url, data)
        second = client.post(url, data, follow=True)
        case = reverse("concerns:detail", args=[melding.code])
        assert first.status_code == 302 and first["Location"] == case
        assert second.redirect_chain == [(case, 302)]
        assert str(submission.ALREADY_SENT) in flashed(second)
        assert BreakGlassAccess.objects.filter(user=root).count() == 1


class AccessRequestDoubleSendTests:
    def test_it_registers_one_access_request_and_answers_the_second_send_with_it(self, ro):
        privacy = member(make_service(ro.org.municipality, "Personvernombudet", Service.Kind.PERSONVERN))
        person = make_contact(ro).person
        person.national_id = synthetic_national_id(datetime.date(1990, 7, 13), start=400)
        person.save(update_fields=["national_id"])
        client = browser(privacy)
        url = reverse("consent:access_requests")
        data = {
            "national_id": person.national_id, "reference": "2026/1234", "received_on": "2026-11-20", "requested_by": "person",
            submission.FIELD: token_on(client, url),
        }
        first = client.post(url, data)
        second = client.post(url, data, follow=True)
        request = AccessRequest.objects.get()
        assert first.status_code == 302
        assert second.redirect_chain == [(reverse("consent:access_request", args=[request.code]), 302)]
        assert str(submission.ALREADY_SENT) in flashed(second)


class ConsentDoubleSendTests:
    def test_it_records_one_consent_and_answers_the_second_send_with_it(self, org):
        child = person_aged(org, 10, given="Emma")
        guardians = guardians_for(org, child)
        record(org, child, guardians=guardians)  # gives the barnehage its role with the child
        client = browser(org.reporter)
        url = reverse("consent:create", args=[child.code])
        data = {**valid_post(org, guardians), submission.FIELD: token_on(client, url)}
        first = client.post(url, data)
        second = client.post(url, data, follow=True)
        consent = Consent.objects.filter(person=child, purpose="individual_plan").get()
        assert first.status_code == 302
        assert second.redirect_chain == [(reverse("consent:detail", args=[consent.code]), 302)]
        assert str(submission.ALREADY_SENT) in flashed(second)
