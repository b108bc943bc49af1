"""Lists name the child (the person) to the users whose role allows it (issue 7, point 8).

A row names its person by the record the case page names them by (the reporting service's, the
sender's), only to a user holding a role on the case, and every person named is logged as one list
read: one access-log row per person, all written in one INSERT.

Personas: ``reporter`` (Solsiden barnehage) sends meldinger; ``caseworker`` (Barneverntjenesten)
receives them; ``other_bh_staff`` (Eventyrskogen barnehage) and ``nav_staff`` have no role; for
referrals ``sender`` (Rådgivning), ``coordinator`` (Psykisk helse og rus) and ``tildeling_staff``.
"""
import logging
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AccessLog
from audit.verify import access_log_verify
from org.services import membership_set
from people.services import person_record_set
from tests.factories import make_child, make_consultation, make_melding, next_child_identity
from tests.referral_factories import make_consent, make_contact, make_referral, make_referral_org
from workflows.flows.concern import ConcernFlow
from workflows.withdrawal import consent_withdraw_cascade

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    # The assertions read the English source strings.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def ro(db):
    return make_referral_org()


def a_child(org, given, family="Berg"):
    identity = next_child_identity()
    return make_child(org, given=given, family=family, birth=identity["birth"], start=identity["start"])


def log_inserts(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if re.match(r"\s*INSERT INTO \"?audit_accesslog\"?", q["sql"], re.I)]


def get(client, user, url, *, queries=False):
    client.force_login(user)
    if not queries:
        response = client.get(url)
        assert response.status_code == 200, url
        return response.content.decode()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode(), captured


def list_reads(purpose):
    return list(AccessLog.objects.filter(purpose=purpose).order_by("id"))


CONCERN_LISTS = [("reporter", "concerns:index"), ("caseworker", "concerns:intake"), ("caseworker", "concerns:intake", "?vis=alle")]


class ConcernListNameTests:
    def test_it_names_the_child_and_birth_year_on_the_reporters_list(self, client, org):
        child = a_child(org, "Nora")
        make_melding(org, child=child)
        page = get(client, org.reporter, reverse("concerns:index"))
        assert "Nora Berg" in page and f"(born {child.birth_date.year})" in page

    def test_it_names_the_child_on_the_intake_list_by_the_reporters_record(self, client, org):
        # Barnevern registered the same child itself, spelled otherwise: the identity number is no
        # key to its record; the melding is named as the reporting service registered it (as on its page).
        child = a_child(org, "Nora")
        person_record_set(person=child, service=org.barnevern, given_name="Norah", family_name="Bergh")
        make_melding(org, child=child)
        for url in (reverse("concerns:intake"), reverse("concerns:intake") + "?vis=alle"):
            page = get(client, org.caseworker, url)
            assert "Nora Berg" in page and f"(born {child.birth_date.year})" in page
            assert "Norah" not in page

    def test_it_names_no_one_on_an_anonymous_consultation(self, client, org):
        make_consultation(org)
        for username, name, *query in CONCERN_LISTS:
            page, queries = get(client, getattr(org, username), reverse(name) + "".join(query), queries=True)
            assert 'data-testid="listed-person"' not in page
            assert "Not shown" in page
            assert log_inserts(queries) == []
        assert list_reads("concern list") == []

    def test_it_shows_no_name_to_a_user_without_a_role(self, client, org):
        child = a_child(org, "Nora")
        make_melding(org, child=child)
        # Eventyrskogen holds its own record of the same child, but no role in this melding.
        person_record_set(person=child, service=org.other_barnehage, given_name="Nora", family_name="Berg")
        for user, name in [(org.other_bh_staff, "concerns:index"), (org.nav_staff, "concerns:intake"), (org.teacher, "concerns:index")]:
            page = get(client, user, reverse(name))
            assert "Nora" not in page and "Berg" not in page
        assert list_reads("concern list") == []

    def test_it_logs_one_row_per_child_shown_in_one_insert(self, client, org):
        nora, ola, emil = a_child(org, "Nora"), a_child(org, "Ola"), a_child(org, "Emil")
        meldinger = [make_melding(org, child=c) for c in (nora, ola, emil, nora)]
        make_consultation(org)
        page, queries = get(client, org.caseworker, reverse("concerns:intake") + "?vis=alle", queries=True)
        assert all(name in page for name in ("Nora Berg", "Ola Berg", "Emil Berg"))
        assert len(log_inserts(queries)) == 1
        rows = list_reads("concern list")
        assert sorted(r.person_id for r in rows) == sorted([nora.pk, ola.pk, emil.pk])
        assert {(r.user_id, r.service_id, r.action, r.via, r.object_type) for r in rows} == {
            (org.caseworker.pk, org.barnevern.pk, "view", "role", "referrals.concern")
        }
        assert {r.object_id for r in rows} <= {m.pk for m in meldinger}
        report = access_log_verify()
        assert report.ok and report.head_id == rows[-1].id

    def test_it_logs_the_reporters_read_for_the_reporting_service(self, client, org):
        child = a_child(org, "Nora")
        melding = make_melding(org, child=child)
        get(client, org.reporter, reverse("concerns:index"))
        [row] = list_reads("concern list")
        assert (row.user_id, row.service_id, row.person_id, row.object_id) == (org.reporter.pk, org.barnehage.pk, child.pk, melding.pk)

    def test_it_runs_as_many_queries_for_ten_rows_as_for_two(self, client, org):
        def counts():
            out = {}
            for username, name, *query in CONCERN_LISTS:
                _page, queries = get(client, getattr(org, username), reverse(name) + "".join(query), queries=True)
                out[(username, name, *query)] = (len(queries.captured_queries), len(log_inserts(queries)))
            return out

        for _ in range(2):
            make_melding(org)
        few = counts()
        for _ in range(8):
            make_melding(org)
        assert counts() == few
        assert all(inserts == 1 for _n, inserts in few.values())
        assert len(list_reads("concern list")) == 3 * 2 + 3 * 10


class ReferralListNameTests:
    def test_it_names_the_person_on_the_sent_incoming_and_coordinator_lists(self, client, ro):
        direct = make_referral(ro, contact=make_contact(ro, given="Solveig"))
        routed = make_referral(ro, contact=make_contact(ro, given="Torstein"), via_coordinator=True)
        page = get(client, ro.sender, reverse("referrals:index"))
        assert "Solveig" in page and "Torstein" in page
        page = get(client, ro.tildeling_staff, reverse("referrals:incoming"))
        assert "Solveig" in page and "Torstein" not in page
        for url in (reverse("referrals:coordinator"), reverse("referrals:coordinator_list")):
            page = get(client, ro.coordinator, url)
            assert "Torstein" in page and "Solveig" not in page
        # A contact with only an approximate age has no birth year to show.
        assert "(born" not in page
        assert {(r.person_id, r.service_id) for r in list_reads("referral list")} == {
            (direct.person_id, ro.radgivning.pk), (routed.person_id, ro.radgivning.pk),
            (direct.person_id, ro.tildeling.pk), (routed.person_id, ro.rus.pk),
        }

    def test_it_names_the_person_by_the_senders_record_on_the_incoming_list(self, client, ro):
        referral = make_referral(ro, contact=make_contact(ro, given="Solveig"))
        person_record_set(person=referral.person, service=ro.tildeling, given_name="Sollveig", family_name="Own spelling")
        page = get(client, ro.tildeling_staff, reverse("referrals:incoming"))
        assert "Solveig" in page and "Own spelling" not in page

    def test_it_shows_no_name_once_the_consent_is_withdrawn(self, client, ro):
        contact = make_contact(ro, given="Solveig")
        consent = make_consent(ro, contact.person)
        make_referral(ro, contact=contact, consent=consent)
        assert "Solveig" in get(client, ro.tildeling_staff, reverse("referrals:incoming") + "?vis=alle")
        consent_withdraw_cascade(consent=consent, user=ro.sender)
        AccessLog_before = AccessLog.objects.filter(purpose="referral list", service=ro.tildeling).count()
        page = get(client, ro.tildeling_staff, reverse("referrals:incoming") + "?vis=alle")
        assert "Solveig" not in page
        assert AccessLog.objects.filter(purpose="referral list", service=ro.tildeling).count() == AccessLog_before

    def test_it_names_the_person_on_the_contact_list_of_the_registering_service(self, client, ro):
        contact = make_contact(ro, given="Solveig")
        page, queries = get(client, ro.sender, reverse("referrals:contacts"), queries=True)
        assert "Solveig" in page and len(log_inserts(queries)) == 1
        [row] = list_reads("contact list")
        assert (row.person_id, row.service_id, row.object_type, row.object_id) == (
            contact.person_id, ro.radgivning.pk, "referrals.contact", contact.pk
        )
        page = get(client, ro.coordinator, reverse("referrals:contacts"))
        assert "Solveig" not in page

    def test_it_logs_both_lists_of_the_coordinator_page_in_one_insert(self, client, ro):
        people = [make_referral(ro, contact=make_contact(ro, given=g), via_coordinator=True).person_id for g in ("Åse", "Per")]
        _page, queries = get(client, ro.coordinator, reverse("referrals:coordinator"), queries=True)
        assert len(log_inserts(queries)) == 1
        assert sorted(r.person_id for r in list_reads("referral list")) == sorted(people)

    def test_it_runs_as_many_queries_for_ten_rows_as_for_two(self, client, ro):
        pages = [
            (ro.sender, reverse("referrals:index")),
            (ro.sender, reverse("referrals:contacts")),
            (ro.coordinator, reverse("referrals:coordinator")),
            (ro.coordinator, reverse("referrals:coordinator_list")),
            (ro.tildeling_staff, reverse("referrals:incoming")),
            (ro.tildeling_staff, reverse("referrals:incoming") + "?vis=alle"),
        ]

        def add(n):
            for i in range(n):
                make_referral(ro, contact=make_contact(ro, given=f"Person{i}"), via_coordinator=bool(i % 2))

        def counts():
            out = {}
            for user, url in pages:
                _page, queries = get(client, user, url, queries=True)
                out[(user.pk, url)] = (len(queries.captured_queries), len(log_inserts(queries)))
            return out

        add(2)
        few = counts()
        add(8)
        assert counts() == few
        assert all(inserts == 1 for _n, inserts in few.values())


def receipt_task(melding):
    return ConcernFlow.task_class.objects.get(process=melding.process, flow_task=ConcernFlow.receipt)


class TaskListNameTests:
    def test_it_names_the_child_in_the_queue_and_the_inbox(self, client, org):
        child = a_child(org, "Nora")
        melding = make_melding(org, child=child)
        page, queries = get(client, org.caseworker, reverse("workflow:queue"), queries=True)
        assert "Nora Berg" in page and f"(born {child.birth_date.year})" in page
        assert len(log_inserts(queries)) == 1
        task = receipt_task(melding)
        client.post(reverse("workflow:flows:concern:receipt:assign", kwargs={"process_pk": melding.process.pk, "task_pk": task.pk}))
        page = get(client, org.caseworker, reverse("workflow:inbox"))
        assert "Nora Berg" in page
        rows = list_reads("task list")
        assert [(r.person_id, r.service_id, r.object_type, r.object_id) for r in rows] == [
            (child.pk, org.barnevern.pk, "referrals.concern", melding.pk)
        ] * 2
        assert access_log_verify().ok

    def test_it_names_the_child_in_the_archive_of_finished_tasks(self, client, org):
        from tests.factories import advance

        child = a_child(org, "Nora")
        advance(make_melding(org, child=child), org, "received")
        page = get(client, org.caseworker, reverse("workflow:archive"))
        assert "Nora Berg" in page
        assert [r.person_id for r in list_reads("task list")] == [child.pk]

    def test_it_names_no_one_in_an_inbox_whose_role_has_ended(self, client, org):
        # The task stays assigned to the caseworker after their membership ended: the row names no one.
        melding = make_melding(org, child=a_child(org, "Nora"))
        task = receipt_task(melding)
        client.force_login(org.caseworker)
        client.post(reverse("workflow:flows:concern:receipt:assign", kwargs={"process_pk": melding.process.pk, "task_pk": task.pk}))
        membership_set(user=org.caseworker, service=org.barnevern, active=False)
        client.force_login(org.caseworker)
        response = client.get(reverse("workflow:inbox"))
        assert "Nora" not in response.content.decode()
        assert list_reads("task list") == []

    def test_it_names_no_one_for_a_consultation(self, client, org):
        make_consultation(org)
        page = get(client, org.caseworker, reverse("workflow:queue"))
        assert 'data-testid="listed-person"' not in page
        assert list_reads("task list") == []

    def test_it_names_the_person_of_a_referral_task(self, client, ro):
        make_referral(ro, contact=make_contact(ro, given="Torstein"), via_coordinator=True)
        page = get(client, ro.coordinator, reverse("workflow:queue"))
        assert "Torstein" in page
        [row] = list_reads("task list")
        assert (row.service_id, row.object_type) == (ro.rus.pk, "referrals.referral")

    def test_it_runs_as_many_queries_for_ten_tasks_as_for_two(self, client, org):
        def count():
            _page, queries = get(client, org.caseworker, reverse("workflow:queue"), queries=True)
            return len(queries.captured_queries), len(log_inserts(queries))

        for _ in range(2):
            make_melding(org)
        count()  # the first visit keeps the list's address in the session (a write of its own)
        few = count()
        for _ in range(8):
            make_melding(org)
        assert count() == few and few[1] == 1


class ListReadReviewTests:
    def test_it_logs_each_list_read_for_a_service_holding_a_role_with_the_person(self, client, org, ro):
        """The privacy function's review lists reads by a service without a role: no list read is one."""
        import datetime

        from django.utils import timezone

        from audit.selectors import review_reads_without_case

        make_melding(org, child=a_child(org, "Nora"))
        make_referral(ro, contact=make_contact(ro, given="Solveig"))
        make_referral(ro, contact=make_contact(ro, given="Torstein"), via_coordinator=True)
        for user, url in [
            (org.reporter, reverse("concerns:index")), (org.caseworker, reverse("concerns:intake")),
            (ro.sender, reverse("referrals:index")), (ro.sender, reverse("referrals:contacts")),
            (ro.tildeling_staff, reverse("referrals:incoming")), (ro.coordinator, reverse("referrals:coordinator")),
            (org.caseworker, reverse("workflow:queue")), (ro.coordinator, reverse("workflow:queue")),
        ]:
            get(client, user, url)
        purposes = ("concern list", "referral list", "contact list", "task list")
        logged = AccessLog.objects.filter(purpose__in=purposes)
        assert {r.purpose for r in logged} == set(purposes) and logged.count() == 10
        now = timezone.now()
        flagged, _cursor = review_reads_without_case(since=now - datetime.timedelta(hours=1), until=now + datetime.timedelta(hours=1), size=500)
        assert [r for r in flagged if r.purpose in purposes] == []


class ListPrivacyTests:
    def test_it_puts_no_name_in_a_link_or_a_log_line(self, client, org, ro, caplog):
        make_melding(org, child=a_child(org, "Nora", family="Kvamsdal"))
        make_referral(ro, contact=make_contact(ro, given="Solveig"), via_coordinator=True)
        pages = [
            (org.reporter, reverse("concerns:index")), (org.caseworker, reverse("concerns:intake")),
            (org.caseworker, reverse("workflow:queue")), (ro.sender, reverse("referrals:index")),
            (ro.coordinator, reverse("referrals:coordinator")), (ro.coordinator, reverse("referrals:coordinator_list")),
        ]
        with caplog.at_level(logging.DEBUG):
            for user, url in pages:
                page = get(client, user, url)
                assert "Kvamsdal" in page or "Solveig" in page, url
                links = re.findall(r'(?:href|action|src)="([^"]*)"', page)
                assert not [link for link in links if re.search(r"Nora|Kvamsdal|Solveig", link)], url
        assert not [r for r in caplog.records if re.search(r"Nora|Kvamsdal|Solveig", r.getMessage())]
