"""Who held a role with a person at a past moment (people.holders.role_held_at, read by the
access-log review): a disclosure counts from when it was made until it was revoked, and only if
it was ever in force."""
import datetime

import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef
from django.utils import timezone

from audit.models import AccessLog
from audit.services import access_log_write
from consent.models import Disclosure
from people.holders import role_held_at
from tests.factories import make_melding

T0 = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.timezone.utc)


def disclose_to_nav(org, concern, **fields):
    with time_machine.travel(T0, tick=False):
        return Disclosure.objects.create(
            person=concern.person, subject_type=ContentType.objects.get_for_model(concern), subject_id=concern.pk,
            from_service=org.barnehage, to_service=org.nav, basis=Disclosure.Basis.STATUTORY, purpose="test",
            permission="referrals.handle_concern", disclosed_by=org.reporter, **fields,
        )


def held_when_read(org, concern, at) -> bool:
    with time_machine.travel(at, tick=False):
        row = access_log_write(user=org.nav_staff, action="view", obj=concern, person=concern.person, service=org.nav)
    condition = role_held_at(person=OuterRef("person_id"), service=OuterRef("service_id"), at=OuterRef("at"))
    return AccessLog.objects.filter(pk=row.pk).filter(condition).exists()


class RoleHeldAtTests:
    def test_it_counts_a_disclosure_in_force_from_when_it_was_made(self, org):
        concern = make_melding(org)
        disclose_to_nav(org, concern)

        assert not held_when_read(org, concern, T0 - datetime.timedelta(hours=1))
        assert held_when_read(org, concern, T0 + datetime.timedelta(hours=1))

    def test_it_ends_the_role_when_the_disclosure_is_revoked(self, org):
        concern = make_melding(org)
        disclose_to_nav(org, concern, revoked_at=T0 + datetime.timedelta(days=1))

        assert held_when_read(org, concern, T0 + datetime.timedelta(hours=1))
        assert not held_when_read(org, concern, T0 + datetime.timedelta(days=2))

    def test_it_never_counts_a_disclosure_that_was_not_in_force(self, org):
        concern = make_melding(org)
        for status in (Disclosure.Status.PENDING, Disclosure.Status.REJECTED, Disclosure.Status.CANCELLED):
            disclose_to_nav(org, concern, status=status)

        assert not held_when_read(org, concern, timezone.now())
