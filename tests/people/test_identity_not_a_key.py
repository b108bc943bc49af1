"""An identity number is not a key to a person (issue 6, point 1).

Personas: the school health nurse (Skolehelsetjenesten) registered Jonas first, with his real name;
a kindergarten reporter and a low-threshold counsellor then type the same number with other names.
What they see is what they typed, and a leader's report shows only their own service's handling.
"""
import datetime

import pytest
from django.urls import reverse

from audit.models import AccessLog
from consent.models import Consent
from consent.services import consent_record
from people.models import PersonRecord
from referrals.models import Concern
from people.services import person_get_or_create
from people.validators import synthetic_national_id
from tests.factories import make_guardian, make_melding, make_referral_services
from tests.referral_factories import make_contact, make_referral, make_referral_org

pytestmark = pytest.mark.django_db

JONAS_FNR = synthetic_national_id(datetime.date(2013, 5, 4), start=700)
REAL_NAME = ("Jonas", "Hemmeligsen")


@pytest.fixture
def known(org):
    """Jonas as the school health service registered him, with a consent and a disclosure of its own."""
    health = make_referral_services(org)
    jonas = person_get_or_create(
        user=health.nurse, given_name=REAL_NAME[0], family_name=REAL_NAME[1], national_id=JONAS_FNR,
        municipality=org.municipality, service=health.helse,
    )
    return health, jonas


class ConcernIdentityTests:
    def test_it_shows_the_reporter_only_the_name_it_typed_for_a_known_number(self, client, org, known):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), {
            "kind": "melding", "reporting_service": org.barnehage.pk, "receiving_service": org.barnevern.pk,
            "given_name": "Jonny", "family_name": "Skrevet", "national_id": JONAS_FNR, "birth_date": "",
            "observations": "Far virket beruset ved henting.", "categories": ["parent_intoxicated"],
            "urgency": "normal", "parents_informed": "yes", "child_informed": "yes", "not_informed_reason": "",
        })
        assert response.status_code == 302
        concern = Concern.objects.get(reporting_service=org.barnehage)
        page = client.get(reverse("concerns:detail", args=[concern.code])).content.decode()
        assert "Jonny Skrevet" in page
        assert REAL_NAME[1] not in page

    def test_it_shows_barnevern_the_name_the_reporter_disclosed(self, client, org, known):
        _health, jonas = known
        typed = person_get_or_create(user=org.reporter, given_name="Jonny", family_name="Skrevet", national_id=JONAS_FNR, service=org.barnehage)
        assert typed == jonas  # the same person, linked: barnevern can see it is the same child
        concern = make_melding(org, child=typed)
        client.force_login(org.caseworker)
        page = client.get(reverse("concerns:detail", args=[concern.code])).content.decode()
        assert "Jonny Skrevet" in page
        assert REAL_NAME[1] not in page

    def test_it_keeps_the_first_services_record_unchanged(self, org, known):
        health, jonas = known
        person_get_or_create(user=org.reporter, given_name="Jonny", family_name="Skrevet", national_id=JONAS_FNR, service=org.barnehage)
        assert PersonRecord.objects.get(person=jonas, service=health.helse).full_name == " ".join(REAL_NAME)
        assert PersonRecord.objects.get(person=jonas, service=org.barnehage).full_name == "Jonny Skrevet"


class ContactIdentityTests:
    def test_it_shows_the_typed_name_after_identifying_a_minimal_contact_as_a_known_person(self, client):
        ro = make_referral_org()
        existing = person_get_or_create(
            user=ro.tildeling_staff, given_name=REAL_NAME[0], family_name=REAL_NAME[1],
            national_id=synthetic_national_id(datetime.date(1990, 2, 3), start=300), service=ro.tildeling,
        )
        contact = make_contact(ro, given="Kari", age=35)
        client.force_login(ro.sender)
        response = client.post(
            reverse("referrals:contact_identify", args=[contact.code]),
            {"national_id": existing.national_id, "family_name": "Nordmann", "given_name": "Kari"},
        )
        assert response.status_code == 302
        contact.refresh_from_db()
        assert contact.person_id == existing.pk
        page = client.get(reverse("referrals:contact_detail", args=[contact.code])).content.decode()
        assert "Kari Nordmann" in page
        assert REAL_NAME[1] not in page and REAL_NAME[0] not in page


class PersonPagesTests:
    def test_it_shows_a_linked_service_none_of_another_services_consents(self, client, org, known):
        health, jonas = known
        other = consent_record(
            user=health.nurse, service=health.helse, person=jonas, purpose=Consent.Purpose.REFERRAL,
            information="Henvisning til rustjenesten.", grantees=[health.rus], valid_from=datetime.date.today(),
            method=Consent.Method.VERBAL, guardians=[make_guardian(jonas)],
        )
        person_get_or_create(user=org.reporter, given_name="Jonny", family_name="Skrevet", national_id=JONAS_FNR, service=org.barnehage)
        make_melding(org, child=jonas)
        client.force_login(org.reporter_leader)
        page = client.get(reverse("consent:person", args=[jonas.code])).content.decode()
        assert other.reference not in page
        assert REAL_NAME[1] not in page

    def test_it_shows_a_leader_only_their_own_services_handling_in_the_report(self, client):
        ro = make_referral_org()
        referral = make_referral(ro)  # Rådgivning → Tildelingskontoret, on consent
        tildeling_reader = ro.tildeling_staff
        client.force_login(tildeling_reader)
        client.get(reverse("referrals:detail", args=[referral.code]))  # Tildeling reads it (logged)
        # A kindergarten's leader whose service linked to the person through the number.
        bh = ro.org.barnehage
        person_get_or_create(user=ro.org.reporter, given_name="K", family_name="Typet", national_id=None,
                             birth_date=datetime.date(1990, 1, 1), service=bh)  # an unrelated person of its own
        referral.person.national_id = synthetic_national_id(datetime.date(1991, 3, 3), start=200)
        referral.person.save(update_fields=["national_id"])
        person_get_or_create(user=ro.org.reporter, given_name="K", family_name="Typet", national_id=referral.person.national_id, service=bh)
        Consent.objects.create(
            person=referral.person, purpose=Consent.Purpose.OTHER, information="x", valid_from=datetime.date.today(),
            method=Consent.Method.VERBAL, recorded_by=ro.org.reporter, recorded_by_service=bh,
        )
        client.force_login(ro.org.reporter_leader)
        response = client.get(reverse("consent:report", args=[referral.person.code]))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Tildelingskontoret" not in page  # another service's disclosure and reads
        assert tildeling_reader.username not in page
        assert response.context["report"].service == bh
        assert all(e.service_id == bh.pk for e in response.context["report"].access_entries)
        assert response.context["report"].disclosures == []

    def test_it_logs_the_link_made_by_typing_a_known_number(self, org, known):
        _health, jonas = known
        person_get_or_create(user=org.reporter, given_name="Jonny", family_name="Skrevet", national_id=JONAS_FNR, service=org.barnehage)
        assert AccessLog.objects.filter(person=jonas, service=org.barnehage, purpose="registered").exists()
