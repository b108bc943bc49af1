"""The referral pages ask the database a constant number of times, whatever the number of rows
(issue #14): each page is rendered with 3 referrals (and contacts) and again with 30, by the same
user, and must make the same queries, at most 15 of its own. The CSV exports stream.

Personas: see tests/referral_factories.py (a sender in Rådgivning, a coordinator in the substance
service, a caseworker in Tildelingskontoret).
"""
import csv
import io
import traceback
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django.db.models import Count, Q

from org.models import Membership
from org.services import membership_set
from referrals.models import Referral
from tests.factories import member
from tests.queries import chunked_reads
from tests.referral_factories import make_consent, make_contact, make_referral, make_referral_org
from workflows.referral import selectors
from workflows.referral import services as svc

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15
# The referral and contact pages also run the person's name and consent template tags (people/,
# consent/), about ten queries of their own: constant, but over the lists' budget.
MAX_DETAIL_QUERIES = 30


@pytest.fixture
def ro(db):
    return make_referral_org()


def _grow(ro, count):
    """``count`` referrals of every shape the pages list: sent straight to Tildelingskontoret (every
    other one received, every third declined), to the coordinator's queue, and routed on by it;
    each from its own contact."""
    for i in range(count):
        contact = make_contact(ro, given=f"Person{i}", age=18 + (i * 7) % 60)
        consent = make_consent(ro, contact.person)
        direct = make_referral(ro, contact=contact, consent=consent)
        if i % 2:
            svc.referral_receive(referral=direct, user=ro.tildeling_staff)
            if i % 3 == 0:
                svc.referral_decline(referral=direct, user=ro.tildeling_staff, reason="Ikke vår målgruppe.")
        queued = make_referral(ro, contact=contact, consent=consent, via_coordinator=True)
        if i % 2:
            svc.referral_route(referral=queued, user=ro.coordinator, target_service=ro.tildeling, consent=consent)


def _pages(ro):
    some = Referral.objects.filter(sender_service=ro.radgivning, target_service=ro.tildeling).order_by("pk").first()
    contact = some.contact
    return [
        (ro.sender, reverse("referrals:index")),
        (ro.tildeling_staff, reverse("referrals:incoming")),
        (ro.tildeling_staff, reverse("referrals:incoming") + "?vis=alle"),
        (ro.coordinator, reverse("referrals:coordinator")),
        (ro.coordinator, reverse("referrals:coordinator_list")),
        (ro.coordinator, reverse("referrals:coordinator_list") + "?status=requested&alder=26-40"),
        (ro.sender, reverse("referrals:contacts")),
        (ro.sender, reverse("referrals:catalogue")),
        (ro.sender, reverse("referrals:detail", args=[some.code]), MAX_DETAIL_QUERIES),
        (ro.tildeling_staff, reverse("referrals:detail", args=[some.code]), MAX_DETAIL_QUERIES),
        (ro.sender, reverse("referrals:contact_detail", args=[contact.code]), MAX_DETAIL_QUERIES),
        (ro.sender, reverse("referrals:stats")),
        (ro.coordinator, reverse("referrals:stats")),
        (ro.tildeling_staff, reverse("referrals:stats")),
        (ro.sender, reverse("referrals:stats_csv", args=["henvisninger"])),
        (ro.sender, reverse("referrals:stats_csv", args=["kontakter"])),
    ]


# What the page asks, as opposed to the site's shell around it: a statement made while the
# referral view runs, except for the menu and its badges (context processors, template tags), and
# except transaction brackets (savepoints here, BEGIN/COMMIT in production).
VIEWS = str(Path(__file__).resolve().parents[3] / "workflows" / "referral" / "views.py")
SHELL_CODE = ("/config/context_processors.py", "/notifications/context_processors.py", "/workflows/templatetags/task_tags.py")
BRACKETS = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


class _Capture(CaptureQueriesContext):
    """Every query of a request, and which of them the page itself asked (not the site's shell)."""

    def __enter__(self):
        self.own = []
        self._wrapper = connection.execute_wrapper(self._note)
        self._wrapper.__enter__()
        return super().__enter__()

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)
        return super().__exit__(*exc)

    def _note(self, execute, sql, params, many, context):
        files = [f.filename for f in traceback.extract_stack()]
        if VIEWS in files and not any(f.endswith(SHELL_CODE) for f in files) and not sql.startswith(BRACKETS):
            self.own.append(sql)
        return execute(sql, params, many, context)


def _count(client, user, url):
    client.force_login(user)
    client.get(url)  # the first request of a session writes it; measure a settled one
    with _Capture(connection) as ctx:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return [q["sql"] for q in ctx.captured_queries], ctx.own


class QueriesPerPageTests:
    def test_it_asks_the_same_queries_with_3_and_with_30_referrals(self, client, ro):
        _grow(ro, 3)
        pages = _pages(ro)
        small = {url + str(user.pk): _count(client, user, url) for user, url, *_budget in pages}
        _grow(ro, 27)
        assert Referral.objects.count() == 60
        for user, url, *budget in pages:
            all_small, own_small = small[url + str(user.pk)]
            all_large, own_large = _count(client, user, url)
            assert len(all_large) == len(all_small), (url, all_large)
            assert len(own_large) == len(own_small)
            assert len(own_large) <= (budget[0] if budget else MAX_QUERIES), (url, own_large)

    def test_it_shows_a_full_page_and_a_next_link_on_each_list_at_30(self, client, ro):
        _grow(ro, 30)
        for user, url, testid in [
            (ro.sender, reverse("referrals:index"), "sent-list"),
            (ro.tildeling_staff, reverse("referrals:incoming") + "?vis=alle", "incoming-list"),
            (ro.coordinator, reverse("referrals:coordinator_list"), None),
            (ro.sender, reverse("referrals:contacts"), None),
        ]:
            client.force_login(user)
            html = client.get(url).content.decode()
            assert 'rel="next"' in html and 'rel="prev"' not in html, url


class KeysetCursorTests:
    def test_it_walks_forward_and_back_by_opaque_cursors(self, ro):
        contact = make_contact(ro)
        consent = make_consent(ro, contact.person)
        made = [make_referral(ro, contact=contact, consent=consent) for _ in range(5)]
        newest_first = [r.pk for r in reversed(made)]
        first = selectors.referral_sent_list(ro.sender, page_size=2)
        assert [r.pk for r in first.rows] == newest_first[:2] and first.previous_cursor is None
        second = selectors.referral_sent_list(ro.sender, cursor=first.next_cursor, page_size=2)
        third = selectors.referral_sent_list(ro.sender, cursor=second.next_cursor, page_size=2)
        assert [r.pk for r in second.rows] == newest_first[2:4] and [r.pk for r in third.rows] == newest_first[4:]
        assert third.next_cursor is None
        back = selectors.referral_sent_list(ro.sender, cursor=third.previous_cursor, page_size=2)
        assert [r.pk for r in back.rows] == newest_first[2:4] and back.next_cursor and back.previous_cursor
        start = selectors.referral_sent_list(ro.sender, cursor=back.previous_cursor, page_size=2)
        assert [r.pk for r in start.rows] == newest_first[:2] and start.previous_cursor is None
        for cursor in (first.next_cursor, back.previous_cursor):
            # Opaque: neither the row's id nor its time can be read off or edited in the URL.
            # (Not a bare "_t": the signature's base64 holds one by chance about once in 80 runs.)
            assert str(made[-3].pk) + "_t" not in cursor

    @pytest.mark.parametrize("forged", ["1_t1700000000.0", "garbage", "x" * 500, "eyJwIjoiMV90MSIsImIiOmZhbHNlfQ:abc:def", "%00"])
    def test_it_shows_the_first_page_for_a_forged_cursor(self, client, ro, forged):
        made = make_referral(ro)
        client.force_login(ro.sender)
        response = client.get(reverse("referrals:index"), {"etter": forged})
        assert response.status_code == 200 and made.reference in response.content.decode()

    def test_it_keeps_the_other_lists_cursor_on_the_coordinator_page(self, client, ro):
        _grow(ro, 1)
        for _ in range(26):
            make_referral(ro, via_coordinator=True)
        client.force_login(ro.coordinator)
        html = client.get(reverse("referrals:coordinator") + "?risiko=x").content.decode()
        assert 'rel="next"' in html and "risiko=x" in html.split('rel="next"')[0].rsplit("href=", 1)[1]


class StreamingExportTests:
    def test_it_streams_the_contacts_export_line_by_line_from_chunked_cursors(self, client, ro, monkeypatch):
        monkeypatch.setattr(selectors, "STATS_CHUNK", 2)  # several chunks even from a small data set
        _grow(ro, 3)
        for i in range(4):  # contacts never referred on
            make_contact(ro, given=f"Uten{i}")
        client.force_login(ro.sender)
        with chunked_reads() as declared:
            response = client.get(reverse("referrals:stats_csv", args=["kontakter"]))
            assert response.streaming
            chunks = list(response.streaming_content)
        assert len(chunks) == 4  # the byte order mark, the header and two rows: a line at a time
        rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig")), delimiter=";"))
        assert [r[1:] for r in rows[1:]] == [
            ["Rådgivning rus og psykisk helse", "7", "3", "Tildelingskontoret", "3"],
            # Written after the view returned, still in the request's language (bokmål by default).
            ["Rådgivning rus og psykisk helse", "7", "3", "Fordelingskøen hos en koordinator (ikke fordelt ennå)", "2"],
        ]
        # The counters are read through one server-side cursor (QuerySet.iterator(chunk_size)),
        # never the contacts themselves.
        assert len(declared) == 1 and "referrals_contactstat" in declared[0]

    def test_it_streams_the_referrals_export(self, client, ro):
        _grow(ro, 2)
        client.force_login(ro.sender)
        response = client.get(reverse("referrals:stats_csv", args=["henvisninger"]))
        assert response.streaming and response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
        assert [(r[1], r[2]) for r in rows[1:]] == [("Tildelingskontoret", "3")]

    def test_it_streams_the_referrals_export_line_by_line_from_one_chunked_cursor(self, client, ro, monkeypatch):
        monkeypatch.setattr(selectors, "STATS_CHUNK", 1)
        _grow(ro, 2)
        make_referral(ro, to=ro.rask)  # a second destination: a second line
        client.force_login(ro.sender)
        with chunked_reads() as declared:
            response = client.get(reverse("referrals:stats_csv", args=["henvisninger"]))
            chunks = list(response.streaming_content)
        assert len(chunks) == 4  # the byte order mark, the header and a line per destination
        rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig")), delimiter=";"))
        assert sorted((r[1], r[2]) for r in rows[1:]) == [("Rask psykisk helsehjelp", "1"), ("Tildelingskontoret", "3")]
        assert len(declared) == 1 and "UNION ALL" in declared[0]

    @pytest.mark.parametrize("table", ["henvisninger", "kontakter"])
    def test_it_streams_each_export_with_the_same_queries_at_3_and_at_30_referrals(self, client, ro, table):
        url = reverse("referrals:stats_csv", args=[table])
        _grow(ro, 3)
        small, _own = _count(client, ro.sender, url)
        _grow(ro, 27)
        with CaptureQueriesContext(connection) as ctx, chunked_reads() as streamed:
            response = client.get(url)
            assert response.streaming
            body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert len(ctx.captured_queries) == len(small)
        assert body.count("\n") >= 2 and streamed


class StatisticsAsBeforeTests:
    """The statistics read each role's referrals on its own index now; they count what the one
    query over sender, routing service and target counted before."""

    @staticmethod
    def _as_before(user):
        from org.access import member_service_ids

        ids = member_service_ids(user)
        qs = Referral.objects.filter(
            Q(sender_service__in=ids) | Q(routing_service__in=ids) | Q(target_service__in=ids, process__isnull=False),
            target_service__isnull=False,
        )
        return {row["target_service__name"]: row["n"] for row in qs.values("target_service__name").annotate(n=Count("pk")).order_by()}

    def test_it_counts_what_the_single_query_counted_for_every_role(self, ro):
        _grow(ro, 4)
        # A user of both the sending and the receiving service: each referral counts once.
        both = member(ro.radgivning)
        membership_set(user=both, service=ro.tildeling, role=Membership.Role.STAFF)
        for user in (ro.sender, ro.coordinator, ro.tildeling_staff, ro.rask_staff, both, ro.org.nav_staff):
            rows = selectors.stats_referrals_by_destination(user)
            assert {r["service"]: r["total"] for r in rows} == self._as_before(user)
            for r in rows:
                assert sum(r["statuses"]) == r["total"]
        assert sum(r["total"] for r in selectors.stats_referrals_by_destination(both)) == 4 + 2


class IndexTests:
    def test_it_keeps_the_open_referrals_index_on_the_open_statuses(self):
        # The incoming list filters by Referral.OPEN_STATUSES; PostgreSQL uses the partial index
        # only while its condition says the same (the model's Meta cannot name the constant).
        index = next(i for i in Referral._meta.indexes if i.name == "referral_incoming_open_idx")
        assert index.condition == Q(status__in=[str(s) for s in Referral.OPEN_STATUSES])
