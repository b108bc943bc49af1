"""A person merge and the youth contract (issue 8, the registry's merge hook): every person row of
a contract moves to the person identified, and two records of one guardian, both parties to one
contract, become one party that keeps the signature.

Today is frozen at Tuesday 1 September 2026 (scenario.py). Emil, 16, has a police contract; his
mother Kari is registered twice: with her identity number, and by the police station without one
(she had no papers with her when she signed). Both records are guardian parties.
"""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from consent.models import Consent
from people.models import Guardianship, Person
from people.services import person_get_or_create, person_merge
from referrals.models import ContractParty, ContractSignature, YouthContract
from tests.workflows.youth_contract.scenario import TODAY, initiate, young_person
from workflows.youth_contract import services as svc

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
G = ContractParty.Role.GUARDIAN


def kari_without_number(org, yc, emil):
    kari = person_get_or_create(user=yc.officer, given_name="Kari", family_name="Strand", birth_date=datetime.date(1985, 4, 2),
                                municipality=org.municipality, service=yc.police)
    Guardianship.objects.create(child=emil, guardian=kari)
    return kari


def merge(source, target):
    with transaction.atomic():
        person_merge(source=Person.objects.select_for_update().get(pk=source.pk), target=target)


class ContractMergeTests:
    def test_two_records_of_one_guardian_become_one_party_that_keeps_the_signature(self, org, yc):
        emil, kari = young_person(org, yc)
        kari_again = kari_without_number(org, yc, emil)
        contract = initiate(org, yc, person=emil, guardian=kari, guardians=[kari, kari_again])
        # Everyone signs but Kari's numbered record; her other record's signature is hers all the same.
        for party in contract.parties.exclude(person=kari):
            svc.contract_sign(contract=contract, user=yc.nurse, party_code=party.code, method="signed", signed_on=TODAY)
        with pytest.raises(ValidationError):
            svc.contract_activate(contract=contract, user=yc.nurse)

        merge(kari_again, kari)

        guardians = list(ContractParty.objects.filter(contract=contract, role=G))
        assert [(p.person_id, p.required) for p in guardians] == [(kari.pk, True)]
        assert ContractSignature.objects.get(party__contract=contract, party__role=G).signed_on == TODAY
        assert not ContractParty.objects.filter(person=kari_again).exists()
        # One party per person again, every one signed: the contract can start.
        assert svc.contract_activate(contract=contract, user=yc.nurse).status == YouthContract.Status.ACTIVE

    def test_a_guardian_party_keeps_its_own_signature_when_both_records_signed(self, org, yc):
        emil, kari = young_person(org, yc)
        kari_again = kari_without_number(org, yc, emil)
        contract = initiate(org, yc, person=emil, guardian=kari, guardians=[kari, kari_again])
        kept = contract.parties.get(person=kari)
        svc.contract_sign(contract=contract, user=yc.nurse, party_code=kept.code, method="digital", signed_on=TODAY)
        svc.contract_sign(contract=contract, user=yc.nurse, party_code=contract.parties.get(person=kari_again).code, method="verbal",
                          signed_on=TODAY)

        merge(kari_again, kari)

        assert list(ContractParty.objects.filter(contract=contract, role=G).values_list("pk", "person")) == [(kept.pk, kari.pk)]
        assert ContractSignature.objects.get(party=kept).method == "digital"
        assert ContractSignature.objects.filter(party__contract=contract, party__role=G).count() == 1

    def test_the_young_persons_second_record_moves_with_the_contract_and_its_consent(self, org, yc):
        emil, kari = young_person(org, yc)
        emil_again = person_get_or_create(user=yc.officer, given_name="Emil", birth_date=emil.birth_date, municipality=org.municipality,
                                          service=yc.police)
        Guardianship.objects.create(child=emil_again, guardian=kari)
        contract = initiate(org, yc, person=emil_again, guardian=kari)

        merge(emil_again, emil)

        contract = YouthContract.objects.get(pk=contract.pk)
        assert contract.person == emil
        assert contract.parties.get(role=ContractParty.Role.YOUNG_PERSON).person == emil
        assert Consent.objects.get(pk=contract.consent_id).person == emil
        assert not ContractParty.objects.filter(person=emil_again).exists()
        assert not YouthContract.objects.filter(person=emil_again).exists()
