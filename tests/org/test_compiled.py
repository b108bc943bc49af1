"""org.compiled: a statement compiled once per process answers like the queryset it stands for."""
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Value
from django.test.utils import CaptureQueriesContext
from django.db import connection

from org.access import active_memberships_of_user, member_facts
from org.compiled import CompiledQuery, model_columns, model_instances, objects_together, prepared_insert, prepared_rows
from org.models import Membership, Service, ServiceKindSetting
from org.services import membership_set
from workflows.models import DeadlinePolicy


def _services_of(*, user_id):
    reports = ServiceKindSetting.objects.filter(kind=OuterRef("service__kind"), may_report_concerns=True)
    return (active_memberships_of_user(user_id).annotate(reports=Exists(reports)).order_by("service__name")
            .values_list("service__code", "service__name", "role", "reports"))


class CompiledQueryTests:
    def test_it_answers_each_user_as_the_queryset_does(self, org):
        compiled = CompiledQuery(_services_of, "user_id")
        for user in (org.caseworker, org.reporter, org.bv_leader, org.nav_staff):
            assert compiled.rows(user_id=user.pk) == list(_services_of(user_id=user.pk))
        # Converted as the queryset converts: the code a UUID, the flag a boolean (0/1 on SQLite).
        (code, name, role, reports), = compiled.rows(user_id=org.reporter.pk)
        assert code == org.barnehage.code and name == org.barnehage.name and reports is True

    def test_it_compiles_once_per_shape(self, org):
        built = []

        def build(shape, *, user_id):
            built.append(shape)
            return _services_of(user_id=user_id).filter(role__in=shape)

        compiled = CompiledQuery(build, "user_id")
        leader, member = (Membership.Role.LEADER,), (Membership.Role.LEADER, Membership.Role.STAFF)
        assert compiled.rows(shape=leader, user_id=org.caseworker.pk) == []
        assert [r[1] for r in compiled.rows(shape=leader, user_id=org.bv_leader.pk)] == [org.barnevern.name]
        assert [r[1] for r in compiled.rows(shape=member, user_id=org.caseworker.pk)] == [org.barnevern.name]
        assert built == [leader, member]

    def test_it_keeps_a_bounded_number_of_shapes_and_compiles_a_dropped_one_again(self, org):
        from org import compiled as module

        built = []

        def build(shape, *, pk):
            built.append(shape)
            return Service.objects.filter(pk=pk).annotate(day=Value(shape))

        compiled = CompiledQuery(build, "pk")
        for day in range(module._SHAPES_AT_MOST + 1):  # a shape per day, as a consent judged on a date
            assert [(s.pk, s.day) for s in compiled.objects(shape=day, pk=org.barnevern.pk)] == [(org.barnevern.pk, day)]
        assert len(compiled._compiled) <= module._SHAPES_AT_MOST
        assert [s.day for s in compiled.objects(shape=0, pk=org.barnevern.pk)] == [0]
        assert built == list(range(module._SHAPES_AT_MOST + 1)) + [0]

    def test_it_refuses_a_value_that_is_not_a_parameter(self, org):
        # A value the statement does not carry as a parameter would be silently ignored: refused.
        compiled = CompiledQuery(lambda *, user_id: Membership.objects.filter(active=True).values_list("pk"), "user_id")
        with pytest.raises(ValueError, match="user_id"):
            compiled.rows(user_id=org.caseworker.pk)

    def test_it_takes_a_statement_of_its_own(self, org):
        compiled = CompiledQuery(lambda *, user_id: ("SELECT COUNT(*) FROM org_membership WHERE user_id = %s", [user_id]), "user_id")
        assert compiled.rows(user_id=org.caseworker.pk) == [(1,)]
        assert compiled.rows(user_id=-1) == [(0,)]

    def test_it_makes_the_instances_the_queryset_makes(self, org):
        def memberships(*, user_id):
            reports = ServiceKindSetting.objects.filter(kind=OuterRef("service__kind"), may_report_concerns=True)
            return (active_memberships_of_user(user_id).select_related("service__municipality", "user")
                    .annotate(reports=Exists(reports)).order_by("service__name"))

        compiled = CompiledQuery(memberships, "user_id")
        for user in (org.caseworker, org.reporter, org.bv_leader):
            expected = list(memberships(user_id=user.pk))
            with CaptureQueriesContext(connection) as queries:
                made = compiled.objects(user_id=user.pk)
                # The related rows come with the statement: reading them asks nothing more.
                seen = [(m.pk, m.role, m.reports, m.service.code, m.service.name, m.service.municipality.name, m.user.username)
                        for m in made]
            assert len(queries) == 1
            assert seen == [(m.pk, m.role, m.reports, m.service.code, m.service.name, m.service.municipality.name, m.user.username)
                            for m in expected]
            assert all(type(m) is Membership and not m._state.adding for m in made)
        assert compiled.objects(user_id=-1) == []

    def test_it_makes_no_instances_of_rows_or_of_a_statement_of_its_own(self, org):
        values = CompiledQuery(lambda *, user_id: active_memberships_of_user(user_id).values_list("pk"), "user_id")
        text = CompiledQuery(lambda *, user_id: ("SELECT id FROM org_membership WHERE user_id = %s", [user_id]), "user_id")
        for compiled in (values, text):
            with pytest.raises(TypeError, match="model instances"):
                compiled.objects(user_id=org.caseworker.pk)


class MemberFactsTests:
    def test_it_reads_the_services_as_model_rows_in_one_query(self, org):
        user = type(org.caseworker).objects.get(pk=org.caseworker.pk)
        with CaptureQueriesContext(connection) as queries:
            facts = member_facts(user)
        assert len(queries) == 1
        ((service, role),) = facts.memberships
        assert isinstance(service, Service) and service == org.barnevern and role == Membership.Role.STAFF
        assert service.code == org.barnevern.code and service.kind == Service.Kind.BARNEVERN
        assert service.municipality_id == org.municipality.pk and service.group_id == org.barnevern.group_id

    def test_it_follows_a_change_of_membership_at_once(self, org):
        # Compiled once, asked again: the statement is the same, the answer is today's.
        assert member_facts(org.nav_staff).service_ids == (org.nav.pk,)
        membership_set(user=org.nav_staff, service=org.barnevern, role=Membership.Role.LEADER)
        facts = member_facts(org.nav_staff)
        assert set(facts.service_ids) == {org.nav.pk, org.barnevern.pk}
        assert facts.leader_service_ids == (org.barnevern.pk,)
        membership_set(user=org.nav_staff, service=org.nav, active=False)
        assert member_facts(org.nav_staff).service_ids == (org.barnevern.pk,)

    def test_it_reads_which_kinds_may_report(self, org):
        assert member_facts(org.reporter).reporting_kinds == {Service.Kind.BARNEHAGE}
        assert member_facts(org.caseworker).reporting_kinds == frozenset()


class PreparedTests:
    @pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
    def test_it_runs_as_a_statement_prepared_on_the_connection_and_counted_like_any(self, org):
        compiled = CompiledQuery(_services_of, "user_id")
        with CaptureQueriesContext(connection) as ctx:
            first = compiled.rows(user_id=org.caseworker.pk)
            second = compiled.rows(user_id=org.reporter.pk)
        assert len(ctx) == 2 and first != second
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%org_servicekindsetting%reports%"])
            assert len(cursor.fetchall()) == 1  # prepared once, run twice


class PreparedRowsTests:
    """A step's own statement, written as text: prepared on the connection, and its rows made the
    model's instances as a queryset makes them."""

    def test_it_answers_as_the_orm_and_makes_the_instances_a_queryset_makes(self, org):
        from django.utils import timezone

        from workflows.models import Deadline

        made = Deadline.objects.create(
            policy=DeadlinePolicy.objects.first(), subject_type=ContentType.objects.get_for_model(Service), subject_id=org.barnevern.pk,
            responsible_service=org.barnevern, starts_at=timezone.now(), due_at=timezone.now(),
        )
        columns = ", ".join(connection.ops.quote_name(column) for column in model_columns(Deadline))
        rows = prepared_rows(f"SELECT {columns} FROM {Deadline._meta.db_table} WHERE id = %s AND responsible_service_id = %s",
                          [made.pk, org.barnevern.pk])
        (found,) = model_instances(Deadline, rows)
        stored = Deadline.objects.get(pk=made.pk)
        assert {f.attname: getattr(found, f.attname) for f in Deadline._meta.concrete_fields} == {
            f.attname: getattr(stored, f.attname) for f in Deadline._meta.concrete_fields
        }
        assert found.due_at.tzinfo is not None and not found._state.adding and found._state.db == connection.alias
        assert prepared_rows(f"SELECT {columns} FROM {Deadline._meta.db_table} WHERE id = %s", [0]) == []

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
    def test_it_is_prepared_once_and_counted_like_any(self, org):
        with CaptureQueriesContext(connection) as ctx:
            for user in (org.caseworker, org.reporter):
                assert prepared_rows("SELECT username FROM auth_user WHERE id = %s /* step */", [user.pk]) == [(user.username,)]
        assert len(ctx) == 2
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%/* step */%"])
            assert cursor.fetchone()[0] == 1


class PreparedInsertTests:
    def test_it_stores_what_bulk_create_stores_and_gives_each_object_its_key_in_order(self, org):
        from org.models import Municipality

        made = [Municipality(name=f"Sted {i}", number=f"86{i:02d}", emergency_phone=f"55 0{i}") for i in range(3)]
        assert prepared_insert(Municipality, made) == made
        assert all(m.pk is not None and not m._state.adding and m._state.db == connection.alias for m in made)
        assert [m.pk for m in made] == sorted(m.pk for m in made)
        stored = Municipality.objects.in_bulk([m.pk for m in made])
        assert [(stored[m.pk].name, stored[m.pk].number, stored[m.pk].emergency_phone) for m in made] == [
            (m.name, m.number, m.emergency_phone) for m in made
        ]
        (alone,) = prepared_insert(Municipality, [Municipality(name="Alene", number="8699")])
        assert Municipality.objects.get(pk=alone.pk).name == "Alene"

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
    def test_it_prepares_one_text_for_any_number_of_rows(self, org):
        from org.models import Municipality

        for count in (2, 3, 5):
            prepared_insert(Municipality, [Municipality(name=f"Rad {count} {i}", number=f"85{count}{i}") for i in range(count)])
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ['INSERT INTO "org_municipality"%UNNEST%'])
            assert cursor.fetchone()[0] == 1


def _service(*, pk):
    return Service.objects.filter(pk=pk)


def _membership_of(*, user_id):
    return Membership.objects.filter(user_id=user_id).order_by("pk")


class ObjectsTogetherTests:
    """Several compiled statements in one round trip (a pipeline on PostgreSQL), answered in order."""

    def test_it_answers_each_statement_as_it_answers_alone_in_the_order_asked(self, org):
        services, memberships = CompiledQuery(_service, "pk"), CompiledQuery(_membership_of, "user_id")
        with CaptureQueriesContext(connection) as ctx:
            found = objects_together((services, None, {"pk": org.barnevern.pk}), (memberships, None, {"user_id": org.caseworker.pk}),
                                     (services, None, {"pk": org.barnehage.pk}))
        assert len(ctx) == 3
        assert [[s.pk for s in found[0]], [m.pk for m in found[1]], [s.pk for s in found[2]]] == [
            [org.barnevern.pk], [m.pk for m in memberships.objects(user_id=org.caseworker.pk)], [org.barnehage.pk],
        ]
        assert found[0][0].name == org.barnevern.name and found[1][0].service_id == org.barnevern.pk

    def test_a_statement_that_fails_or_makes_no_instances_fails_the_call(self, postgresql_only, org):
        from django.db import DatabaseError, transaction

        failing = CompiledQuery(lambda *, pk: ("SELECT 1 / (%s - %s)", [pk, pk]), "pk")
        own = CompiledQuery(lambda *, pk: ("SELECT %s", [pk]), "pk")
        services = CompiledQuery(_service, "pk")
        with pytest.raises(TypeError):  # a statement of its own makes no instances
            objects_together((services, None, {"pk": org.barnevern.pk}), (own, None, {"pk": 1}))
        with pytest.raises(DatabaseError), transaction.atomic():
            objects_together((failing, None, {"pk": 1}), (services, None, {"pk": org.barnevern.pk}))


# Serialized rollback: the rows the migrations write stay for the tests after (see ConcurrentAppendTests in tests/audit/test_hash_chain.py).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_locking_statement_runs_only_inside_a_transaction_every_time(postgresql_only, org):
    """The ORM refuses select_for_update outside a transaction when it compiles; a compiled statement
    is compiled once, so it refuses on every run (rows, objects and together)."""
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    locking = CompiledQuery(lambda *, pk: Service.objects.select_for_update().filter(pk=pk), "pk")
    with transaction.atomic():
        assert [s.pk for s in locking.objects(pk=org.barnevern.pk)] == [org.barnevern.pk]  # compiled here
    with pytest.raises(TransactionManagementError):
        locking.objects(pk=org.barnevern.pk)
    with pytest.raises(TransactionManagementError):
        locking.rows(pk=org.barnevern.pk)
    with pytest.raises(TransactionManagementError):
        objects_together((CompiledQuery(_service, "pk"), None, {"pk": org.barnevern.pk}), (locking, None, {"pk": org.barnevern.pk}))
    # A statement that locks nothing runs anywhere.
    assert [s.pk for s in CompiledQuery(_service, "pk").objects(pk=org.barnehage.pk)] == [org.barnehage.pk]
