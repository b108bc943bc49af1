"""After login the police start on their contracts (issue 8, point 6), chosen through the registry:
the youth contract process claims the police's kind of service (``home_kinds``), so its landing is
asked before the referral process that comes first in the registry's order."""
import dataclasses

import pytest
from django.urls import reverse

from org.models import Membership, Service
from org.services import membership_set
from workflows import processes as registry

pytestmark = pytest.mark.django_db


def landing(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    return response["Location"]


def test_a_police_user_starts_on_their_contracts(client, org, yc):
    assert landing(client, yc.officer) == reverse("youth_contracts:index")
    assert client.get(reverse("youth_contracts:index")).status_code == 200


def test_the_follow_up_nurse_and_barnevern_keep_their_own_start(client, org, yc):
    assert landing(client, yc.nurse) == reverse("referrals:incoming")
    assert landing(client, org.caseworker) == reverse("concerns:intake")


def test_a_police_user_who_also_works_in_another_service_keeps_the_registry_order(client, org, yc):
    membership_set(user=yc.officer, service=org.nav, role=Membership.Role.STAFF)
    assert landing(client, yc.officer) == reverse("referrals:incoming")


def test_the_choice_is_the_registrys_data_not_a_special_case(client, org, yc, monkeypatch):
    """Take the claim off the youth contract entry: the police land where the registry's order puts them."""
    entries = [dataclasses.replace(p, home_kinds=()) if p.name == "youth_contract" else p for p in registry.REGISTRY]
    monkeypatch.setattr(registry, "REGISTRY", entries)
    assert landing(client, yc.officer) == reverse("referrals:incoming")
    # ...and were it to claim barnevern's kind too, barnevern would start on its contracts.
    entries = [dataclasses.replace(p, home_kinds=(Service.Kind.POLITI, Service.Kind.BARNEVERN)) if p.name == "youth_contract" else p
               for p in entries]
    monkeypatch.setattr(registry, "REGISTRY", entries)
    assert landing(client, org.caseworker) == reverse("youth_contracts:index")
    assert landing(client, yc.officer) == reverse("youth_contracts:index")
