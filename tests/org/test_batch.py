"""A step's writes in fewer round trips (org.batch, issue 14 point 6): ``insert_sql`` is the INSERT
bulk_create sends, and a write given to ``write_soon`` inside ``writes_sent_together`` goes in the
text of the connection's next statement — never after a statement asked later, never lost, never
sent when the block fails.
"""
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.test.utils import CaptureQueriesContext

from org import batch
from org.models import Area, Municipality

pytestmark = pytest.mark.django_db


def _pipeline_seen(execute, sql, params, many, context):
    """An execute wrapper noting whether each statement went in a psycopg pipeline."""
    from psycopg import pq

    _pipeline_seen.statuses.append(context["connection"].connection.pgconn.pipeline_status != pq.PipelineStatus.OFF)
    return execute(sql, params, many, context)


_pipeline_seen.statuses = []


def municipality_insert(name, number):
    return batch.insert_sql(Municipality, [Municipality(name=name, number=number)], using=connection.alias)


class InsertSqlTests:
    def test_it_writes_what_bulk_create_writes_and_returns_the_ids_in_the_objects_order(self, postgresql_only):
        made = [Municipality(name=f"Sted {i}", number=f"88{i:02d}", emergency_phone="55 55 55 55") for i in range(3)]
        sql, params = batch.insert_sql(Municipality, made, using=connection.alias, returning=[Municipality._meta.pk])
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
        stored = Municipality.objects.in_bulk(ids)
        assert [(stored[i].name, stored[i].number, stored[i].emergency_phone) for i in ids] == [
            (m.name, m.number, m.emergency_phone) for m in made
        ]
        # Every column as bulk_create writes the same object, its defaults included.
        compared = Municipality.objects.bulk_create([Municipality(name="Sted 0", number="8898", emergency_phone="55 55 55 55")])
        written, bulk = (Municipality.objects.filter(pk=pk).values().get() for pk in (ids[0], compared[0].pk))
        assert {k: v for k, v in written.items() if k not in ("id", "number")} == {k: v for k, v in bulk.items() if k not in ("id", "number")}

    def test_it_refuses_a_row_with_a_key(self):
        with pytest.raises(ValueError):
            batch.insert_sql(Municipality, [Municipality(pk=1, name="X", number="8801")], using=connection.alias)

    def test_it_takes_the_key_of_a_related_object_saved_after_it_was_assigned(self, postgresql_only):
        municipality = Municipality(name="Senere", number="8802")
        area = Area(municipality=municipality, name="Sentrum")
        municipality.save()
        sql, params = batch.insert_sql(Area, [area], using=connection.alias)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        assert Area.objects.get(name="Sentrum").municipality_id == municipality.pk


class InsertSqlShapeTests:
    """Its text is compiled once per shape (model, options, one row or several); each call works out
    only the values, which must be the ORM's."""

    def _compiles(self, monkeypatch):
        compiled = []
        original = batch._compiled_insert

        def counting(*args, **kwargs):
            compiled.append(args[0])
            return original(*args, **kwargs)

        monkeypatch.setattr(batch, "_compiled_insert", counting)
        batch._INSERT_TEXTS.clear()
        return compiled

    @pytest.mark.parametrize("rows", [1, 3])
    def test_it_gives_the_orms_text_and_values_for_every_call_after_compiling_once(self, monkeypatch, rows):
        compiled = self._compiles(monkeypatch)
        fields, _unnest = batch._insert_fields(Municipality, connection.alias)
        for call in range(3):
            made = [Municipality(name=f"Sted {call} {i}", number=f"8{call}{i:02d}", emergency_phone=f"55 {i}") for i in range(rows)]
            sql, params = batch.insert_sql(Municipality, made, using=connection.alias, returning=[Municipality._meta.pk])
            assert (sql, list(params)) == tuple_of(batch._compiled_insert(Municipality, made, fields, connection.alias, False, [Municipality._meta.pk]))
        # The three calls compiled once; each comparison above compiled once more.
        assert len(compiled) == 1 + 3

    def test_a_shape_of_its_own_for_each_option_and_for_one_row_or_several(self, monkeypatch, postgresql_only):
        compiled = self._compiles(monkeypatch)
        one = [Municipality(name="En", number="8701")]
        several = [Municipality(name="To", number="8702"), Municipality(name="Tre", number="8703")]
        texts = {
            batch.insert_sql(Municipality, one, using=connection.alias)[0],
            batch.insert_sql(Municipality, several, using=connection.alias)[0],
            batch.insert_sql(Municipality, several, using=connection.alias, ignore_conflicts=True)[0],
            batch.insert_sql(Municipality, several, using=connection.alias, returning=[Municipality._meta.pk])[0],
        }
        assert len(texts) == len(compiled) == 4
        # Several rows go as UNNEST arrays: one text for any number of them.
        more = [Municipality(name=f"Fire {i}", number=f"871{i}") for i in range(5)]
        sql, params = batch.insert_sql(Municipality, more, using=connection.alias)
        assert "UNNEST" in sql and len(compiled) == 4
        assert [list(column) for column in params][:2] == [[m.name for m in more], [m.number for m in more]]

    def test_an_expression_among_the_values_goes_through_the_orm_every_time(self, monkeypatch, postgresql_only):
        from django.db.models.functions import Upper

        compiled = self._compiles(monkeypatch)
        for number in ("8721", "8722"):
            sql, params = batch.insert_sql(Municipality, [Municipality(name=Upper(Value("ytre")), number=number)], using=connection.alias)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
        assert len(compiled) == 2 and not batch._INSERT_TEXTS
        assert sorted(Municipality.objects.filter(number__in=["8721", "8722"]).values_list("name", flat=True)) == ["YTRE", "YTRE"]

    def test_a_time_set_on_insert_is_set_on_each_object_and_written(self, postgresql_only, org):
        from django.contrib.contenttypes.models import ContentType
        from django.utils import timezone

        from notifications.models import Reminder

        batch._INSERT_TEXTS.clear()
        for key in ("a", "b"):
            reminder = Reminder(key=f"insert-sql-{key}", obligation="o", kind=Reminder.Kind.INFO, message="m", service=org.barnevern,
                                audience=Reminder.Audience.STAFF, subject_type=ContentType.objects.get_for_model(Municipality),
                                subject_id=1, required_perm="x", url="/", due_at=timezone.now())
            sql, params = batch.insert_sql(Reminder, [reminder], using=connection.alias)
            assert reminder.created_at is not None
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
            assert Reminder.objects.get(key=f"insert-sql-{key}").created_at == reminder.created_at


def tuple_of(statement):
    sql, params = statement
    return sql, list(params)


class WritesSentTogetherTests:
    def test_a_waiting_write_goes_in_the_text_of_the_next_statement_and_runs_before_it(self, postgresql_only):
        with CaptureQueriesContext(connection) as queries, batch.writes_sent_together():
            batch.write_soon(*municipality_insert("Først", "8810"))
            assert Municipality.objects.filter(number="8810").exists()  # the read sees the write given before it
        texts = [q["sql"] for q in queries.captured_queries if "org_municipality" in q["sql"]]
        assert len(texts) == 1 and texts[0].index("INSERT") < texts[0].index("SELECT")

    def test_writes_left_waiting_are_sent_when_the_block_ends_inside_its_transaction(self, postgresql_only):
        with batch.writes_sent_together():
            batch.write_soon(*municipality_insert("Til slutt", "8811"))
            batch.write_soon(*municipality_insert("Til slutt 2", "8812"))
            assert batch.waiting()
        assert set(Municipality.objects.filter(number__in=["8811", "8812"]).values_list("number", flat=True)) == {"8811", "8812"}

    def test_nothing_waiting_is_sent_when_the_block_fails(self, postgresql_only):
        with pytest.raises(RuntimeError), transaction.atomic(), batch.writes_sent_together():
            batch.write_soon(*municipality_insert("Aldri", "8813"))
            raise RuntimeError("the step failed")
        assert not Municipality.objects.filter(number="8813").exists()
        assert not batch.waiting()

    def test_outside_a_block_a_write_is_sent_at_once(self):
        assert not batch.waiting()
        with CaptureQueriesContext(connection) as queries:
            batch.write_soon(*municipality_insert("Straks", "8814"))
        assert len(queries.captured_queries) == 1
        assert Municipality.objects.filter(number="8814").exists()

    def test_a_statement_without_parameters_keeps_its_percent_signs(self, postgresql_only):
        with batch.writes_sent_together():
            batch.write_soon(*municipality_insert("Prosent", "8815"))
            with connection.cursor() as cursor:
                cursor.execute("SELECT '100%' || (SELECT count(*) FROM org_municipality WHERE number = '8815')")
                assert cursor.fetchone() == ("100%1",)

    def test_an_executemany_sends_the_waiting_writes_first_and_a_prepared_statement_before_it_in_one_pipeline(self, postgresql_only):
        from org.compiled import CompiledQuery

        known = Municipality.objects.create(name="Kjent", number="8820")
        by_pk = CompiledQuery(lambda shape, pk: Municipality.objects.filter(pk=pk), "pk")
        with batch.writes_sent_together():
            batch.write_soon(*municipality_insert("Mange", "8816"))
            with connection.cursor() as cursor:
                cursor.executemany("UPDATE org_municipality SET name = name || %s WHERE number = %s", [("!", "8816"), ("?", "8816")])
            batch.write_soon(*municipality_insert("Forberedt", "8817"))
            batch.write_soon(*municipality_insert("Forberedt 2", "8821"))
            assert batch.writes_waiting()
            _pipeline_seen.statuses.clear()
            with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(_pipeline_seen):
                assert [m.name for m in by_pk.objects(shape="batch-test", pk=known.pk)] == ["Kjent"]
            assert not batch.writes_waiting()
            texts = [q["sql"] for q in queries.captured_queries]
            # Each waiting write a text of its own (a pipeline's texts hold one statement), all in the
            # prepared statement's pipeline: one round trip.
            assert len(texts) == 3 and all(t.startswith('INSERT INTO "org_municipality"') for t in texts[:2])
            assert "8817" in texts[0] and "8821" in texts[1] and texts[2].startswith("SELECT")
            assert _pipeline_seen.statuses == [True, True, True]
        assert Municipality.objects.get(number="8816").name == "Mange!?"
        assert Municipality.objects.filter(number__in=["8817", "8821"]).count() == 2

    def test_waiting_writes_go_in_the_pipeline_of_statements_asked_together(self, postgresql_only):
        from org.compiled import CompiledQuery, objects_together

        by_number = CompiledQuery(lambda shape, pk: Municipality.objects.filter(pk__gte=pk).order_by("number"), "pk")
        with batch.writes_sent_together():
            batch.write_soon(*municipality_insert("Sammen", "8822"))
            batch.write_soon(*municipality_insert("Sammen 2", "8823"))
            first, second = objects_together((by_number, "a", {"pk": 0}), (by_number, "b", {"pk": 0}))
        assert {"8822", "8823"} <= {m.number for m in first} and [m.pk for m in first] == [m.pk for m in second]

    def test_a_failing_waiting_write_fails_the_prepared_statement_that_carries_it_and_its_transaction(self, postgresql_only):
        from org.compiled import CompiledQuery

        Municipality.objects.create(name="Finnes", number="8824")
        by_pk = CompiledQuery(lambda shape, pk: Municipality.objects.filter(pk=pk), "pk")
        with pytest.raises(IntegrityError), transaction.atomic(), batch.writes_sent_together():
            batch.write_soon(*municipality_insert("Dobbel", "8824"))  # the number is unique
            by_pk.objects(shape="batch-test", pk=1)
        assert list(Municipality.objects.filter(number="8824").values_list("name", flat=True)) == ["Finnes"]

    def test_a_failing_waiting_write_fails_the_statement_that_carries_it_and_its_transaction(self, postgresql_only):
        Municipality.objects.create(name="Finnes", number="8818")
        with pytest.raises(IntegrityError), transaction.atomic(), batch.writes_sent_together():
            batch.write_soon(*municipality_insert("Dobbel", "8818"))  # the number is unique
            Municipality.objects.filter(number="8818").count()
        assert list(Municipality.objects.filter(number="8818").values_list("name", flat=True)) == ["Finnes"]

    def test_a_nested_block_leaves_its_writes_to_the_outer_one(self, postgresql_only):
        with batch.writes_sent_together():
            with batch.writes_sent_together():
                batch.write_soon(*municipality_insert("Indre", "8819"))
            with CaptureQueriesContext(connection) as queries:
                assert Municipality.objects.filter(number="8819").exists()
            assert len(queries.captured_queries) == 1 and queries.captured_queries[0]["sql"].startswith("INSERT")
