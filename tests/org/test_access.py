"""The one rule of "a member" (org.access.active_memberships), read by every membership check."""
from org.access import active_memberships, is_member, member_service_ids, user_is_leader_of, user_services
from org.models import Membership
from org.services import membership_set


class MembershipRuleTests:
    def test_it_counts_an_active_membership_of_an_active_service(self, org):
        assert is_member(org.caseworker, org.barnevern)
        assert member_service_ids(org.caseworker) == [org.barnevern.pk]
        assert list(user_services(org.caseworker)) == [org.barnevern]

    def test_it_ignores_a_membership_of_a_deactivated_service(self, org):
        org.barnevern.active = False
        org.barnevern.save(update_fields=["active"])

        assert not is_member(org.caseworker, org.barnevern)
        assert member_service_ids(org.caseworker) == []
        assert not user_is_leader_of(org.bv_leader, org.barnevern)

    def test_it_ignores_an_ended_membership(self, org):
        membership_set(user=org.caseworker, service=org.barnevern, active=False)

        assert not is_member(org.caseworker, org.barnevern)
        assert not active_memberships(org.caseworker).exists()

    def test_it_gives_a_role_only_to_the_user_who_holds_it(self, org):
        # The caseworker's service has a leader, but the caseworker is not one.
        assert list(user_services(org.bv_leader, role=Membership.Role.LEADER)) == [org.barnevern]
        assert list(user_services(org.caseworker, role=Membership.Role.LEADER)) == []
        assert not is_member(org.caseworker, org.barnevern, role=Membership.Role.LEADER)

    def test_it_gives_an_inactive_user_nothing(self, org):
        org.caseworker.is_active = False
        org.caseworker.save(update_fields=["is_active"])

        assert not is_member(org.caseworker, org.barnevern)
        assert list(user_services(org.caseworker)) == []

    def test_it_gives_a_deactivated_service_no_members_to_notify(self, org):
        from org.access import active_members

        assert set(active_members(org.barnevern).values_list("user_id", flat=True)) == {org.caseworker.pk, org.bv_leader.pk}
        assert list(active_members(org.barnevern, role=Membership.Role.LEADER).values_list("user_id", flat=True)) == [org.bv_leader.pk]
        org.barnevern.active = False
        org.barnevern.save(update_fields=["active"])

        assert not active_members(org.barnevern).exists()


class HeldCodenamesTests:
    """org.access.held_codenames: which roles the user's services hold on a page of rows, in one query."""

    def test_it_names_each_rows_roles_for_each_user(self, org):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from org.access import held_codenames
        from referrals.access import HANDLER_PERM, REPORTER_PERM
        from referrals.models import Concern
        from tests.factories import make_melding

        sent, draft = make_melding(org), make_melding(org, submit=False)
        wanted = (HANDLER_PERM, REPORTER_PERM)
        with CaptureQueriesContext(connection) as queries:
            held = held_codenames(org.caseworker, Concern, [sent.pk, draft.pk], wanted)
        assert len(queries) <= 2  # the user's groups (once per request) and the permissions
        # Barnevern handles the sent melding only; the reporter's barnehage sees both as reporter.
        assert held == {sent.pk: {HANDLER_PERM}}
        assert held_codenames(org.reporter, Concern, [sent.pk, draft.pk], wanted) == {sent.pk: {REPORTER_PERM}, draft.pk: {REPORTER_PERM}}
        assert held_codenames(org.reporter, Concern, [sent.pk], (HANDLER_PERM,)) == {}
        assert held_codenames(org.nav_staff, Concern, [sent.pk, draft.pk], wanted) == {}
        assert held_codenames(org.caseworker, Concern, [], wanted) == {}

    def test_an_ended_membership_holds_nothing_and_the_subquery_follows_it(self, org):
        from org.access import held_codenames, permitted_ids_subquery
        from referrals.access import HANDLER_PERM
        from referrals.models import Concern
        from tests.factories import make_melding

        sent = make_melding(org)
        handled = lambda user: list(Concern.objects.filter(pk=sent.pk).filter(permitted_ids_subquery(user, Concern, HANDLER_PERM)))  # noqa: E731
        assert handled(org.caseworker) == [sent]
        membership_set(user=org.caseworker, service=org.barnevern, active=False)
        caseworker = type(org.caseworker).objects.get(pk=org.caseworker.pk)  # a new request's user
        assert held_codenames(caseworker, Concern, [sent.pk], (HANDLER_PERM,)) == {}
        assert handled(caseworker) == []
        # Another user of the same groups shares the built expression and its answer.
        assert handled(org.bv_leader) == [sent]

    def test_held_roles_gives_each_row_the_first_role_held(self, org):
        from org.access import held_roles
        from org.permissions import CONCERN_REPORTER, grant_to_service
        from referrals.access import HANDLER_PERM, REPORTER_PERM
        from referrals.models import Concern
        from tests.factories import make_consultation, make_melding

        # Barnevern handles both; on the (anonymous) consultation it holds the reporter's role too.
        both, handled = make_consultation(org), make_melding(org)
        grant_to_service(perm=CONCERN_REPORTER, obj=both, service=org.barnevern)
        ids = [both.pk, handled.pk]
        assert held_roles(org.caseworker, Concern, ids, {"handler": HANDLER_PERM, "reporter": REPORTER_PERM}) == {
            both.pk: "handler", handled.pk: "handler"}
        assert held_roles(org.caseworker, Concern, ids, {"reporter": REPORTER_PERM, "handler": HANDLER_PERM}) == {
            both.pk: "reporter", handled.pk: "handler"}
        assert held_roles(org.nav_staff, Concern, ids, {"handler": HANDLER_PERM, "reporter": REPORTER_PERM}) == {}
