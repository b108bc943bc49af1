"""viewflow's inbox, queue and archive and the menu's task badges at any size (issue 14).

Each page reads one keyset page of the user's tasks by index, so its queries do not grow with the
tasks: the same count with a few tasks and with more than a page of them. The counts are of what a
real request sends: the test's own transaction turns every atomic block (the session save, the
access-log write) into SAVEPOINT/RELEASE statements that a request outside a test never sends, so
those are left out of the bound (and included in the equality).

Personas: a barnevern caseworker whose service receives the meldinger, a second caseworker in the
same service, and NAV staff (a member of another service, who must see none of these tasks).
"""
import base64
from urllib.parse import unquote
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from tests.factories import advance, make_consultation, make_melding, member
from workflows.flows.concern import ConcernFlow
from workflows.task_lists import BADGE_CAP, task_badge_counts

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15
# A page that names persons also asks the concern process who may be named (its roles query and two
# lookups of the user's groups, workflows.concern.selectors.concern_list_namings), reads the names
# and appends to the access log's hash chain (four statements): outside the task pages' code.
MAX_QUERIES_NAMING = MAX_QUERIES + 5
NEXT = re.compile(r'href="\?([^"]*etter=[^"]+)"')
PREVIOUS = re.compile(r'href="\?([^"]*f%C3%B8r=[^"]+)"')
TASK_LINK = re.compile(r'href="(/workflow/flows/concern/\d+/\w+/\d+/)"')


def _assign(task_qs, user):
    for task in task_qs:
        task.flow_task.activation_class(task).assign(user)


def _grow(org, count):
    """``count`` meldinger to the caseworker's service: every third received by the caseworker (its
    receipt in the archive, its review in the queue), every third of the rest assigned to them
    (the inbox), the others waiting in the queue."""
    for i in range(count):
        concern = make_melding(org)
        if i % 3 == 0:
            advance(concern, org, "received")
        elif i % 3 == 1:
            _assign(Task.objects.filter(process__concernprocess__concern=concern, status=STATUS.NEW), org.caseworker)


def _page(client, url):
    client.get(url)  # the first request of a page warms caches (content types, templates)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    sent = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    return response, len(ctx.captured_queries), sent


def _tasks_listed(response) -> list[str]:
    return TASK_LINK.findall(response.content.decode())


PAGES = ("workflow:inbox", "workflow:queue", "workflow:archive", "concerns:intake")  # the last: the menu's badges


def _grow_consultations(org, count):
    """Anonymous consultations (no person: no page names anyone): every third answered by the
    caseworker (the archive), every third of the rest assigned to them (the inbox)."""
    from workflows.concern import services as svc

    for i in range(count):
        concern = make_consultation(org)
        if i % 3 == 0:
            svc.consultation_answer(concern=concern, user=org.caseworker, advice="Ta kontakt med helsesykepleier.")
        elif i % 3 == 1:
            _assign(Task.objects.filter(process__concernprocess__concern=concern, status=STATUS.NEW), org.caseworker)


class TaskPageQueryCountTests:
    def _assert_constant(self, client, grow, bound):
        few = {page: _page(client, reverse(page)) for page in PAGES}
        grow(78)  # more than a page (25) in each list
        for page in PAGES:
            many, many_all, many_sent = _page(client, reverse(page))
            if page != "concerns:intake":
                assert _tasks_listed(few[page][0]), page
                assert len(_tasks_listed(many)) == 25, page
                assert NEXT.search(many.content.decode()), page
            assert many_all == few[page][1], (page, many_sent)
            assert len(many_sent) <= bound, (page, len(many_sent), many_sent)

    def test_it_sends_as_many_queries_for_many_tasks_as_for_a_few(self, client, org):
        client.force_login(org.caseworker)
        _grow_consultations(org, 3)
        self._assert_constant(client, lambda n: _grow_consultations(org, n), MAX_QUERIES)

    def test_it_sends_as_many_queries_for_many_named_children_as_for_a_few(self, client, org):
        client.force_login(org.caseworker)
        _grow(org, 3)
        self._assert_constant(client, lambda n: _grow(org, n), MAX_QUERIES_NAMING)

    def test_it_sends_as_many_queries_for_the_second_page_as_for_the_first(self, client, org):
        client.force_login(org.caseworker)
        _grow(org, 40)
        url = reverse("workflow:queue")
        first, first_all, _ = _page(client, url)
        second, second_all, _ = _page(client, url + "?" + NEXT.search(first.content.decode()).group(1).replace("&amp;", "&"))
        assert second_all == first_all


class TaskPageSessionTests:
    @pytest.mark.parametrize("page", ["workflow:inbox", "workflow:queue", "workflow:archive"])
    def test_it_writes_the_session_only_when_the_list_kept_for_the_back_link_changes(self, client, org, page):
        # viewflow keeps the list last shown in the session (a task page's "back" link): written
        # when it changes, not on every request (a session UPDATE on every list page).
        client.force_login(org.caseworker)
        _grow(org, 3)
        url = reverse(page)
        client.get(url)
        with CaptureQueriesContext(connection) as again:
            assert client.get(url).status_code == 200
        assert not [q for q in again.captured_queries if 'UPDATE "django_session"' in q["sql"]]
        with CaptureQueriesContext(connection) as other:
            assert client.get(url + "?flow_task=").status_code == 200
        assert [q for q in other.captured_queries if 'UPDATE "django_session"' in q["sql"]]
        assert client.session["vf-pin-location"] == url + "?flow_task="


class TaskPageKeysetTests:
    def test_it_pages_the_queue_without_gaps_or_repeats_and_back(self, client, org):
        client.force_login(org.caseworker)
        for _ in range(30):
            make_melding(org)
        url = reverse("workflow:queue")
        first = client.get(url)
        second = client.get(url + "?" + NEXT.search(first.content.decode()).group(1).replace("&amp;", "&"))
        page1, page2 = _tasks_listed(first), _tasks_listed(second)
        assert len(page1) == 25 and len(page2) == 5
        expected = [
            f"/workflow/flows/concern/{t.process_id}/receipt/{t.pk}/"
            for t in Task.objects.filter(flow_task_type="HUMAN", status=STATUS.NEW).order_by("-created", "-pk")
        ]
        assert page1 + page2 == expected
        assert not NEXT.search(second.content.decode())
        back = client.get(url + "?" + PREVIOUS.search(second.content.decode()).group(1).replace("&amp;", "&"))
        assert _tasks_listed(back) == page1
        assert not PREVIOUS.search(back.content.decode())

    def test_it_keeps_the_filter_in_the_page_links(self, client, org):
        client.force_login(org.caseworker)
        for _ in range(27):
            make_melding(org)
        response = client.get(reverse("workflow:queue"), {"flow_task": "workflows/flows.concern.ConcernFlow.receipt"})
        link = NEXT.search(response.content.decode()).group(1)
        assert "flow_task=workflows%2Fflows.concern.ConcernFlow.receipt" in link

    @pytest.mark.parametrize("cursor", ["garbage", "!!!", base64.urlsafe_b64encode(b"12|not a time").decode(), "x" * 500,
                                        base64.urlsafe_b64encode(b"1|2026-01-01T00:00:00").decode()])
    def test_it_answers_a_forged_cursor_with_the_first_page(self, client, org, cursor):
        client.force_login(org.caseworker)
        for _ in range(3):
            make_melding(org)
        url = reverse("workflow:queue")
        first = _tasks_listed(client.get(url))
        for param in ("etter", "før"):
            response = client.get(url, {param: cursor})
            assert response.status_code == 200
            assert _tasks_listed(response) == first

    def test_it_answers_a_forged_filter_with_the_list_not_an_error(self, client, org):
        client.force_login(org.caseworker)
        make_melding(org)
        response = client.get(reverse("workflow:queue"), {"flow_task": "nope.Flow.step", "created": "'; DROP TABLE x"})
        assert response.status_code == 200

    def test_it_names_no_task_nor_person_in_the_cursor_beyond_a_position(self, client, org):
        client.force_login(org.caseworker)
        for _ in range(26):
            make_melding(org)
        link = NEXT.search(client.get(reverse("workflow:queue")).content.decode()).group(1)
        cursor = unquote(link.split("etter=")[1])
        pk, _sep, when = cursor.partition("_t")
        assert pk.isdigit() and float(when) > 0  # a task's id and a time: its place in the list

    def test_it_pages_the_archive_by_when_the_task_was_finished(self, client, org):
        client.force_login(org.caseworker)
        concerns = [make_melding(org) for _ in range(27)]
        for concern in reversed(concerns):  # finished in the opposite order of creation
            advance(concern, org, "received")
        first = client.get(reverse("workflow:archive"))
        listed = _tasks_listed(first)
        finished = list(Task.objects.filter(owner=org.caseworker, finished__isnull=False).order_by("-finished", "-pk"))
        assert listed == [f"/workflow/flows/concern/{t.process_id}/receipt/{t.pk}/" for t in finished[:25]]
        second = client.get(reverse("workflow:archive") + "?" + NEXT.search(first.content.decode()).group(1).replace("&amp;", "&"))
        assert len(_tasks_listed(second)) == 2


class TaskPageAccessTests:
    def test_it_shows_the_queue_of_the_caseworkers_service_and_no_other(self, client, org):
        make_melding(org)
        client.force_login(org.nav_staff)
        assert _tasks_listed(client.get(reverse("workflow:queue"))) == []
        client.force_login(org.caseworker)
        assert len(_tasks_listed(client.get(reverse("workflow:queue")))) == 1

    def test_it_shows_a_task_in_the_inbox_of_its_owner_only(self, client, org):
        colleague = member(org.barnevern)
        concern = make_melding(org)
        _assign(Task.objects.filter(process__concernprocess__concern=concern, status=STATUS.NEW), colleague)
        client.force_login(org.caseworker)
        assert _tasks_listed(client.get(reverse("workflow:inbox"))) == []
        assert _tasks_listed(client.get(reverse("workflow:queue"))) == []
        client.force_login(colleague)
        assert len(_tasks_listed(client.get(reverse("workflow:inbox")))) == 1

    def test_it_shows_in_the_archive_only_the_tasks_the_user_finished(self, client, org):
        advance(make_melding(org), org, "received")
        client.force_login(member(org.barnevern))
        assert _tasks_listed(client.get(reverse("workflow:archive"))) == []
        client.force_login(org.caseworker)
        assert len(_tasks_listed(client.get(reverse("workflow:archive")))) == 1

    def test_it_lists_the_steps_of_the_flows_as_filter_choices(self, client, org):
        client.force_login(org.caseworker)
        html = client.get(reverse("workflow:queue")).content.decode()
        for step in ("workflows/flows.concern.ConcernFlow.receipt", "workflows/flows.referral.ReferralFlow.decide"):
            assert f"&quot;value&quot;: &quot;{step}&quot;" in html


class TaskBadgeTests:
    def test_it_counts_the_users_assigned_tasks_and_their_services_open_ones(self, client, org):
        _grow(org, 6)  # 2 received (2 reviews open), 2 assigned, 2 open receipts
        client.force_login(org.caseworker)
        html = client.get(reverse("concerns:intake")).content.decode()
        assert re.search(r'data-testid="inbox-count">2<', html)
        assert re.search(r'data-testid="queue-count">4<', html)

    def test_it_counts_only_the_flows_asked_for(self, org):
        # Asked for every flow, the statement leaves the flows out (no task is of another); asked
        # for some, it counts only theirs.
        from workflows.flows.referral import ReferralFlow
        from workflows.processes import processes

        _grow(org, 6)
        every = [process.flow_class() for process in processes()]
        assert task_badge_counts(org.caseworker, every) == {"inbox": 2, "queue": 4}
        assert task_badge_counts(org.caseworker, [ConcernFlow]) == {"inbox": 2, "queue": 4}
        assert task_badge_counts(org.caseworker, [ReferralFlow]) == {"inbox": 0, "queue": 0}
        # The flows are left out of the statement only when they are every flow there is.
        from workflows.task_lists import _badge_statement

        assert "flow_class" not in _badge_statement((tuple(every), True), user_id=org.caseworker.pk)[0]
        assert "flow_class" in _badge_statement(((ConcernFlow,), True), user_id=org.caseworker.pk)[0]

    def test_it_shows_no_badge_to_a_member_of_another_service(self, client, org):
        _grow(org, 3)
        client.force_login(org.nav_staff)
        html = client.get(reverse("workflow:inbox")).content.decode()
        assert 'data-testid="inbox-count"' not in html and 'data-testid="queue-count"' not in html

    def test_it_stops_counting_after_the_cap(self, org):
        from django.contrib.contenttypes.models import ContentType

        from org.models import Service

        make_melding(org)
        template = Task.objects.get(status=STATUS.NEW)
        # Copies of the open receipt task (the badge reads only the task table): more than the cap.
        Task.objects.bulk_create([
            Task(flow_task=template.flow_task, flow_task_type="HUMAN", status=STATUS.NEW, process_id=template.process_id,
                 owner_permission=template.owner_permission, owner_permission_obj_pk=template.owner_permission_obj_pk,
                 owner_permission_content_type=ContentType.objects.get_for_model(Service))
            for _ in range(BADGE_CAP + 20)
        ])
        assert task_badge_counts(org.caseworker, [ConcernFlow])["queue"] == BADGE_CAP + 1


class TasksWithRecordsTests:
    def test_it_reads_each_kind_of_process_once_and_knows_the_others_absent(self, org):
        from tests.referral_factories import make_contact, make_referral, make_referral_org
        from workflows.models import ConcernProcess, ReferralProcess
        from workflows.task_lists import tasks_with_records

        ro = make_referral_org("9931")
        concerns = [make_melding(org) for _ in range(3)]
        referral = make_referral(ro, contact=make_contact(ro, given="Torstein"), via_coordinator=True)
        tasks = list(Task.objects.filter(flow_task_type="HUMAN").select_related("process").order_by("pk"))
        assert {t.process.flow_class for t in tasks} >= {ConcernFlow}
        with CaptureQueriesContext(connection) as ctx:
            tasks = tasks_with_records(tasks)
        assert len(ctx) == len({t.process.flow_class for t in tasks})  # one query per kind of process
        with CaptureQueriesContext(connection) as ctx:
            seen = set()
            for task in tasks:
                coerced = task.process.coerced
                if isinstance(coerced, ConcernProcess):
                    seen.add(("concern", coerced.concern.pk))
                    with pytest.raises(ReferralProcess.DoesNotExist):
                        task.process.referralprocess
                else:
                    assert isinstance(coerced, ReferralProcess) and coerced.referral.pk == referral.pk
                    seen.add(("referral", coerced.referral.pk))
        assert len(ctx) == 0
        assert {("concern", c.pk) for c in concerns} | {("referral", referral.pk)} == seen
