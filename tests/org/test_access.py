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
