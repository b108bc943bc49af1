"""The contract list (issue 8, point 6): each section a keyset page (org.paging.keyset_browse) with
its own signed cursor and previous/next links, and a cost that does not grow with the rows."""
import datetime
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from org.paging import PAGE_SIZE
from tests.workflows.youth_contract.scenario import TODAY, initiate, young_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
ROW = re.compile(r'data-testid="contract-row"><td><a href="[^"]+">([^<]+)</a>')


def contracts(org, yc, n, *, first=0):
    made = []
    for i in range(first, first + n):
        person, guardian = young_person(org, yc, start=600 + i * 7)
        made.append(initiate(org, yc, person=person, guardian=guardian, starts_on=TODAY - datetime.timedelta(days=i)))
    return made


def police_section(html):
    return html[html.index('data-testid="police-contracts"'):]


def link(html, rel):
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    return unescape(found.group(1)) if found else None


def test_the_police_page_through_their_contracts_both_ways(client, org, yc):
    made = contracts(org, yc, PAGE_SIZE + 5)
    client.force_login(yc.officer)
    url = reverse("youth_contracts:index")
    first = police_section(client.get(url).content.decode())
    newest_first = [c.reference for c in made]  # each started a day before the one before it
    assert ROW.findall(first) == newest_first[:PAGE_SIZE]
    assert link(first, "prev") is None and link(first, "next")
    second = police_section(client.get(url + link(first, "next")).content.decode())
    assert ROW.findall(second) == newest_first[PAGE_SIZE:]
    assert link(second, "next") is None and link(second, "prev")
    back = police_section(client.get(url + link(second, "prev")).content.decode())
    assert ROW.findall(back) == newest_first[:PAGE_SIZE]


def test_the_follow_up_nurse_pages_through_the_open_contracts_oldest_start_first(client, org, yc):
    made = contracts(org, yc, PAGE_SIZE + 2)
    client.force_login(yc.nurse)
    url = reverse("youth_contracts:index")
    html = client.get(url).content.decode()
    followed = html[html.index('data-testid="followed"'):html.index('data-testid="police-contracts"')]
    oldest_first = [c.reference for c in reversed(made)]
    assert ROW.findall(followed) == oldest_first[:PAGE_SIZE]
    html = client.get(url + link(followed, "next")).content.decode()
    followed = html[html.index('data-testid="followed"'):html.index('data-testid="police-contracts"')]
    assert ROW.findall(followed) == oldest_first[PAGE_SIZE:]


def test_a_forged_cursor_shows_the_first_page(client, org, yc):
    made = contracts(org, yc, 3)
    client.force_login(yc.officer)
    html = police_section(client.get(reverse("youth_contracts:index") + "?politi=forged").content.decode())
    assert ROW.findall(html) == [c.reference for c in made]


def _queries(client, user):
    client.force_login(user)
    client.get(reverse("youth_contracts:index"))  # warm the session and the user's memberships
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("youth_contracts:index")).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_costs_the_same_for_3_and_30_contracts(client, org, yc):
    contracts(org, yc, 3)
    few = {"officer": _queries(client, yc.officer), "nurse": _queries(client, yc.nurse)}
    contracts(org, yc, 27, first=3)
    many = {"officer": _queries(client, yc.officer), "nurse": _queries(client, yc.nurse)}
    assert many == few, (few, many)
    assert max(many.values()) <= 15, many
