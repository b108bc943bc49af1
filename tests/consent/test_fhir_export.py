"""The FHIR R5 Consent export validates with fhir.resources, in every state a consent can be in."""
import datetime

import pytest
import time_machine
from django.utils import timezone, translation
from fhir.resources.bundle import Bundle
from fhir.resources.consent import Consent as FhirConsent

from consent.fhir import DNR_SYSTEM, FNR_SYSTEM, STATUS_SYSTEM, consent_to_fhir, person_consents_bundle
from consent.services import consent_withdraw
from people.models import Person
from tests.consent.ui_factories import guardians_for, person_aged, record

pytestmark = pytest.mark.django_db


def validated(data: dict) -> dict:
    FhirConsent.model_validate(data)
    return data


def our_status(resource: dict) -> str:
    (tag,) = [t for t in resource["meta"]["tag"] if t["system"] == STATUS_SYSTEM]
    return tag["code"]


class ConsentToFhirTests:
    def test_it_exports_an_active_consent_given_by_the_person(self, org):
        teen = person_aged(org, 17)
        consent = record(org, teen, given_by_person=True, grantees=[org.skole, org.nav], valid_to=timezone.localdate() + datetime.timedelta(days=365))
        data = validated(consent_to_fhir(consent))
        assert data["status"] == "active" and our_status(data) == "active"
        assert data["decision"] == "permit"
        assert data["subject"]["reference"] == f"Patient/{teen.code}"
        assert data["subject"]["identifier"] == {"use": "official", "system": FNR_SYSTEM, "value": teen.national_id}
        assert {g["display"] for g in data["grantee"]} == {org.skole.name, org.nav.name}
        assert data["controller"][0]["reference"] == f"Organization/{org.barnehage.code}"
        assert data["manager"] == data["controller"]
        assert data["grantor"] == [data["subject"]]
        assert data["period"]["end"] == consent.valid_to.isoformat()
        assert data["provision"][0]["purpose"][0]["code"] == "referral"
        assert data["regulatoryBasis"][0]["coding"][0]["code"] == "health-16-18"
        assert "§ 4-3" in data["regulatoryBasis"][0]["text"]
        assert data["verification"][0]["verificationType"]["coding"][0]["code"] == "signed"

    def test_it_exports_a_consent_given_by_guardians_as_related_persons(self, org):
        child = person_aged(org, 10)
        parents = guardians_for(org, child)
        with translation.override("nb"):
            data = validated(consent_to_fhir(record(org, child, guardians=parents)))
        assert data["status"] == "active"
        assert {g["type"] for g in data["grantor"]} == {"RelatedPerson"}
        # Named as the recording service registered them; it registered no names for these
        # guardians, so another service's record of them stays out of the export.
        assert {g["display"] for g in data["grantor"]} == {"Registrert foresatt 1", "Registrert foresatt 2"}

    def test_it_names_guardians_as_the_recording_service_registered_them(self, org):
        from people.services import person_record_set

        child = person_aged(org, 10)
        parents = guardians_for(org, child)
        for p in parents:
            person_record_set(person=p, service=org.barnehage, given_name="Egen", family_name=p.family_name)
        data = validated(consent_to_fhir(record(org, child, guardians=parents)))
        assert {g["display"] for g in data["grantor"]} == {f"Egen {p.family_name}" for p in parents}
        # The guardians' own identity numbers are not part of the child's export.
        assert all("identifier" not in g for g in data["grantor"])
        assert data["regulatoryBasis"][0]["coding"][0]["code"] == "health-under-16"

    def test_it_exports_a_withdrawn_consent_as_inactive(self, org):
        teen = person_aged(org, 17)
        consent = record(org, teen, given_by_person=True)
        consent_withdraw(consent=consent, user=org.reporter, note="Trukket muntlig.")
        consent.refresh_from_db()
        data = validated(consent_to_fhir(consent))
        assert data["status"] == "inactive" and our_status(data) == "withdrawn"

    def test_it_exports_an_expired_consent_as_inactive(self, org):
        teen = person_aged(org, 17)
        with time_machine.travel(timezone.now() - datetime.timedelta(days=100), tick=False):
            consent = record(org, teen, given_by_person=True, valid_to=timezone.localdate() + datetime.timedelta(days=10))
        data = validated(consent_to_fhir(consent))
        assert data["status"] == "inactive" and our_status(data) == "expired"

    def test_it_exports_a_consent_not_yet_in_force_as_active_with_a_future_start(self, org):
        teen = person_aged(org, 17)
        start = timezone.localdate() + datetime.timedelta(days=30)
        data = validated(consent_to_fhir(record(org, teen, given_by_person=True, valid_from=start)))
        assert data["status"] == "active" and our_status(data) == "pending"
        assert data["period"]["start"] == start.isoformat()

    def test_it_exports_a_consent_outgrown_by_the_person_as_inactive(self, org):
        teen = person_aged(org, 17)
        parents = guardians_for(org, teen)
        with time_machine.travel(timezone.now() - datetime.timedelta(days=730), tick=False):
            consent = record(org, teen, guardians=parents)
        data = validated(consent_to_fhir(consent))
        assert data["status"] == "inactive" and our_status(data) == "insufficient"
        # The basis it was given under: the guardians' rule at the time.
        assert data["regulatoryBasis"][0]["coding"][0]["code"] == "health-under-16"

    def test_it_identifies_a_d_number_holder_with_the_d_number_system(self, org):
        person = Person.objects.create(
            given_name="Ana", family_name="Silva", national_id="41018012345", id_kind=Person.IdKind.DNR,
            birth_date=datetime.date(1980, 1, 1), municipality=org.municipality,
        )
        data = validated(consent_to_fhir(record(org, person, given_by_person=True)))
        assert data["subject"]["identifier"]["system"] == DNR_SYSTEM

    def test_it_leaves_out_the_identifier_of_a_person_known_by_birth_date_only(self, org):
        person = Person.objects.create(given_name="Ukjent", birth_date=datetime.date(1990, 5, 5), municipality=org.municipality)
        data = validated(consent_to_fhir(record(org, person, given_by_person=True)))
        assert "identifier" not in data["subject"]


class BundleTests:
    def test_it_bundles_every_consent_of_the_person_and_each_entry_validates(self, org):
        teen = person_aged(org, 17)
        parents = guardians_for(org, teen)
        with time_machine.travel(timezone.now() - datetime.timedelta(days=730), tick=False):
            outgrown = record(org, teen, guardians=parents)
        active = record(org, teen, given_by_person=True)
        withdrawn = record(org, teen, given_by_person=True, purpose="individual_plan")
        consent_withdraw(consent=withdrawn, user=org.reporter, note="")
        other_person = person_aged(org, 30)
        record(org, other_person, given_by_person=True)

        data = person_consents_bundle(teen)
        bundle = Bundle.model_validate(data)
        assert bundle.type == "collection"
        assert len(data["entry"]) == 3
        for entry in data["entry"]:
            validated(entry["resource"])
            assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
        assert {e["resource"]["id"] for e in data["entry"]} == {str(c.code) for c in (outgrown, active, withdrawn)}
        assert {our_status(e["resource"]) for e in data["entry"]} == {"insufficient", "active", "withdrawn"}

    def test_it_bundles_nothing_for_a_person_without_consents(self, org):
        data = person_consents_bundle(person_aged(org, 20))
        Bundle.model_validate(data)
        assert data["entry"] == []
