"""The one keyset pager (org/paging.py), on a text key and on a time key."""
import datetime

import pytest
import time_machine
from django.utils import timezone

from org.models import Municipality, Service
from people.models import Person
from org.paging import cursor_decode, cursor_encode, keyset_page

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
