"""The consents of a person at any number of consents (issue 14): the same queries with 3 and with
30, at most 15 (the page asked 41 with 3 and 332 with 100: the person, the age rule and the
registered guardians again for every consent).

Personas: a reporter in the barnehage (records the consents; tests/conftest.py), and its leader (who also sees the report link).
"""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import AgeRule, Consent
from consent.selectors import consent_status, person_consents_for_user
from tests.consent.ui_factories import guardians_for, person_aged, record
from tests.queries import MAX_QUERIES, page_queries

pytestmark = pytest.mark.django_db


def grow(org, child, guardians, count):
    """``count`` consents of the shapes the page shows: given by the guardians for health (active),
    the same from next month (pending), and for child welfare."""
    for i in range(count):
        shape = i % 3
        if shape == 0:
            record(org, child, guardians=guardians)
        elif shape == 1:
            record(org, child, guardians=guardians, valid_from=timezone.localdate() + datetime.timedelta(days=30))
        else:
            record(org, child, guardians=guardians, domain=AgeRule.Domain.BARNEVERN)


class PersonConsentsQueriesTests:
    @pytest.mark.parametrize("persona", ["reporter", "reporter_leader"])
    def test_it_asks_the_same_queries_with_3_and_with_30_consents(self, client, org, persona):
        child = person_aged(org, 10, given="Emma")
        guardians = guardians_for(org, child)
        user = getattr(org, persona)
        url = reverse("consent:person", args=[child.code])
        grow(org, child, guardians, 3)
        small = page_queries(client, user, url)
        grow(org, child, guardians, 27)
        large = page_queries(client, user, url)
        assert len(large) == len(small), large
        assert len(large) <= MAX_QUERIES, large
        first = client.get(url)
        assert first.content.decode().count("<tr>") == 26  # the header and the first page of 25
        rest = client.get(url, {"etter": first.context["next_cursor"]})
        assert rest.content.decode().count("<tr>") == 6 and rest.context["next_cursor"] is None
        shown = [c.pk for c in first.context["consents"]] + [c.pk for c in rest.context["consents"]]
        assert shown == [c.pk for c in person_consents_for_user(user, child)]  # every consent once, newest first

    @pytest.mark.parametrize("years_on", [0, 6, 8])
    def test_it_judges_each_consent_as_the_single_definition_does(self, org, years_on):
        # At 10 the guardians consent; at 16 (health) the young person and the guardians; at 18 the
        # person alone, so the guardians' consents become insufficient.
        child = person_aged(org, 10, given="Emma")
        guardians = guardians_for(org, child)
        grow(org, child, guardians, 6)
        record(org, child, guardians=guardians, given_by_person=True)
        on = timezone.localdate() + datetime.timedelta(days=365 * years_on + 40)
        listed = person_consents_for_user(org.reporter, child, on=on)
        assert len(listed) == 7
        assert {c.pk: c.status for c in listed} == {c.pk: consent_status(Consent.objects.get(pk=c.pk), on=on) for c in listed}
        if years_on == 8:
            assert "insufficient" in {c.status for c in listed}


class ConsentFormGuardiansTests:
    def test_it_names_the_guardians_by_the_services_own_records_in_one_query_for_all(self, client, org):
        # The barnehage registered the mother's name, not the father's: he is "Registered guardian 2".
        from people.models import Guardianship, PersonRecord

        child = person_aged(org, 10, given="Emma")
        mother, father = guardians_for(org, child)
        PersonRecord.objects.create(person=mother, service=org.barnehage, given_name="Kari", family_name="Berg")
        record(org, child, guardians=[mother, father])  # the barnehage's role with the child
        url = reverse("consent:create", args=[child.code])
        two = page_queries(client, org.reporter, url)
        page = client.get(url).content.decode()
        assert "Kari Berg" in page and "Registrert foresatt 2" in page
        for _ in range(3):
            Guardianship.objects.create(child=child, guardian=person_aged(org, 45, given="Per", service=None))
        assert len(page_queries(client, org.reporter, url)) == len(two)
        assert "Registrert foresatt 5" in client.get(url).content.decode()
