"""The one keyset pager (org/paging.py), on a text key and on a time key, forward and both ways."""
import datetime

import pytest
import time_machine
from django.utils import timezone

from org.models import Municipality, Service
from people.models import Person
from org.paging import OpaqueCursors, cursor_decode, cursor_encode, keyset_browse, keyset_page

pytestmark = pytest.mark.django_db


def all_pages(qs, field, *, descending, page_size):
    rows, cursor, pages = [], None, 0
    while True:
        page, cursor = keyset_page(qs, field, cursor, descending=descending, page_size=page_size)
        rows += page
        pages += 1
        if cursor is None:
            return rows, pages


class KeysetPageTests:
    def test_it_pages_a_text_key_in_order_with_ties_broken_by_id(self):
        muni = Municipality.objects.create(name="Paging", number="9901")
        names = ["Berg", "Alf", "Berg", "Ås", "Alf", "Dal", "Berg"]
        made = [Service.objects.create(municipality=muni, name=n, kind=Service.Kind.OTHER) for n in names]
        qs = Service.objects.filter(municipality=muni)

        rows, pages = all_pages(qs, "name", descending=False, page_size=2)

        assert [s.pk for s in rows] == [s.pk for s in sorted(made, key=lambda s: (s.name, s.pk))]
        assert pages == 4

    def test_it_pages_a_related_text_key(self):
        muni = Municipality.objects.create(name="Paging", number="9902")
        for n in ["C", "A", "B"]:
            Service.objects.create(municipality=muni, name=n, kind=Service.Kind.OTHER)
        qs = Service.objects.filter(municipality=muni).select_related("municipality")

        rows, _pages = all_pages(qs, "name", descending=True, page_size=1)

        assert [s.name for s in rows] == ["C", "B", "A"]

    def test_it_pages_a_time_key_newest_first_without_repeating_a_row(self):
        start = timezone.now() - datetime.timedelta(days=3)
        made = []
        for i in range(5):
            # Two rows share each instant: the id breaks the tie.
            with time_machine.travel(start + datetime.timedelta(hours=i // 2), tick=False):
                made.append(Person.objects.create(given_name=f"P{i}", birth_date=datetime.date(2010, 1, 1)))
        qs = Person.objects.filter(pk__in=[p.pk for p in made])

        rows, pages = all_pages(qs, "created_at", descending=True, page_size=2)

        assert [p.pk for p in rows] == [p.pk for p in sorted(made, key=lambda p: (p.created_at, p.pk), reverse=True)]
        assert pages == 3

    def test_it_treats_a_forged_cursor_as_the_first_page(self):
        muni = Municipality.objects.create(name="Paging", number="9903")
        for n in ["A", "B", "C"]:
            Service.objects.create(municipality=muni, name=n, kind=Service.Kind.OTHER)
        qs = Service.objects.filter(municipality=muni)

        for forged in ["x_tnope", "12_q", "abc", "7_t1e999"]:
            page, _cursor = keyset_page(qs, "name", forged, descending=False, page_size=2)
            assert [s.name for s in page] == ["A", "B"]


class CursorTests:
    def test_it_round_trips_a_time_and_a_text(self):
        moment = timezone.now().replace(microsecond=0)
        assert cursor_decode(cursor_encode(moment, 42)) == (moment, 42)
        assert cursor_decode(cursor_encode("Rådgivning_1", 7)) == ("Rådgivning_1", 7)


class NullKeyTests:
    def test_it_leaves_out_rows_without_a_sort_key_instead_of_repeating_a_page(self):
        # birth_date is nullable: a NULL last row could not be named by a cursor.
        dated = [Person.objects.create(given_name=f"D{i}", birth_date=datetime.date(2010, 1, 1 + i)) for i in range(3)]
        Person.objects.create(given_name="Undated", approx_age=14)
        qs = Person.objects.filter(given_name__in=["D0", "D1", "D2", "Undated"])

        rows, pages = all_pages(qs, "birth_date", descending=True, page_size=1)

        assert [p.pk for p in rows] == [p.pk for p in reversed(dated)]
        assert pages == 3

    def test_it_refuses_to_encode_a_key_no_cursor_can_name(self):
        with pytest.raises(TypeError):
            cursor_encode(None, 1)
        with pytest.raises(TypeError):
            cursor_encode(3.5, 1)


def browse_all(qs, field, *, descending, page_size, cursors=None):
    """Every page forward by next_cursor, then back by previous_cursor: ``(forward, backward, first)``,
    the walks as lists of each page's ids. With ``cursors`` (OpaqueCursors) by its tokens."""

    def browse(cursor, direction):
        if cursors:  # a token says its direction itself
            return cursors.browse(qs, field, cursor, descending=descending, page_size=page_size)
        return keyset_browse(qs, field, **{direction: cursor}, descending=descending, page_size=page_size)

    page = browse(None, "after")
    forward = [[row.pk for row in page]]
    while page.has_next():
        page = browse(page.next_cursor, "after")
        forward.append([row.pk for row in page])
    backward = [[row.pk for row in page]]
    while page.has_previous():
        page = browse(page.previous_cursor, "before")
        backward.insert(0, [row.pk for row in page])
    return forward, backward, page


class KeysetBrowseTests:
    """keyset_browse: the one pager with next and previous cursors (the task lists, the referral lists)."""

    @pytest.fixture
    def services(self):
        muni = Municipality.objects.create(name="Paging", number="9904")
        names = ["Berg", "Alf", "Berg", "Ås", "Alf", "Dal", "Berg"]
        made = [Service.objects.create(municipality=muni, name=n, kind=Service.Kind.OTHER) for n in names]
        return Service.objects.filter(municipality=muni), sorted(made, key=lambda s: (s.name, s.pk))

    @pytest.mark.parametrize("descending", [False, True])
    def test_it_walks_forward_and_back_to_the_same_pages(self, services, descending):
        qs, ordered = services
        expected = [s.pk for s in (reversed(ordered) if descending else ordered)]

        forward, backward, first = browse_all(qs, "name", descending=descending, page_size=3)

        assert forward == [expected[0:3], expected[3:6], expected[6:]]
        assert backward == forward
        assert not first.has_previous() and first.number == 1

    def test_it_gives_the_first_page_for_a_forged_cursor_either_way(self, services):
        qs, ordered = services
        for forged in ["x_tnope", "12_q", "abc", None, ""]:
            for direction in ("after", "before"):
                page = keyset_browse(qs, "name", **{direction: forged}, descending=False, page_size=2)
                assert [s.pk for s in page] == [s.pk for s in ordered[:2]] and page.previous_cursor is None

    def test_it_gives_the_first_page_when_nothing_is_before_the_cursor_any_more(self, services):
        qs, ordered = services
        second = keyset_browse(qs, "name", after=keyset_browse(qs, "name", descending=False, page_size=2).next_cursor,
                               descending=False, page_size=2)
        Service.objects.filter(pk__in=[s.pk for s in ordered[:2]]).delete()

        back = keyset_browse(qs, "name", before=second.previous_cursor, descending=False, page_size=2)

        assert [s.pk for s in back] == [s.pk for s in ordered[2:4]] and back.previous_cursor is None

    def test_it_asks_one_query_per_page(self, services, django_assert_num_queries):
        qs, _ordered = services
        first = keyset_browse(qs, "name", descending=False, page_size=2)
        with django_assert_num_queries(1):
            second = keyset_browse(qs, "name", after=first.next_cursor, descending=False, page_size=2)
        with django_assert_num_queries(1):
            keyset_browse(qs, "name", before=second.previous_cursor, descending=False, page_size=2)


class OpaqueCursorsTests:
    def test_it_walks_both_ways_by_tokens_that_name_no_row(self):
        muni = Municipality.objects.create(name="Paging", number="9905")
        made = [Service.objects.create(municipality=muni, name=f"Tjeneste {i}", kind=Service.Kind.OTHER) for i in range(5)]
        qs = Service.objects.filter(municipality=muni)
        cursors = OpaqueCursors("tests.org.paging")

        forward, backward, _first = browse_all(qs, "name", descending=False, page_size=2, cursors=cursors)

        assert forward == backward == [[made[0].pk, made[1].pk], [made[2].pk, made[3].pk], [made[4].pk]]
        token = cursors.browse(qs, "name", None, descending=False, page_size=2).next_cursor
        assert "Tjeneste" not in token and f"{made[1].pk}_s" not in token

    def test_it_reads_a_forged_or_foreign_token_as_no_cursor(self):
        cursors = OpaqueCursors("tests.org.paging")
        genuine = cursors.token("7_sAlf", before=False)
        assert cursors.read(genuine) == {"after": "7_sAlf"}
        assert cursors.read(cursors.token("7_sAlf", before=True)) == {"before": "7_sAlf"}
        other_list = OpaqueCursors("another.list").token("7_sAlf", before=False)
        for forged in [other_list, genuine[:-2] + "xx", "7_sAlf", "", None, "%00"]:
            assert cursors.read(forged) == {}
