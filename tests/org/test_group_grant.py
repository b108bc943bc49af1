"""A grant to a service's group is one statement (org.permissions.grant_to_service) and means what
guardian's assign_perm meant: the group's members hold the permission on that object only, a second
grant changes nothing, and a permission the object's model does not have is refused.

Personas: ``reporter`` (Solsiden barnehage) whose melding is granted; ``caseworker``
(Barneverntjenesten), whose service receives it; ``nav_staff`` (an outsider) holds nothing.
"""
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.models import GroupObjectPermission

from org import permissions
from tests.factories import make_melding

pytestmark = pytest.mark.django_db


def grants(obj, service):
    return GroupObjectPermission.objects.filter(object_pk=str(obj.pk), group=service.group, permission__codename="view_concern_status")


class GroupGrantTests:
    def test_it_gives_the_services_members_the_permission_on_that_object_only(self, org):
        # A service is no person data: the grant needs no reason (the concern's ledger is tested elsewhere).
        permissions.grant_to_service(perm=permissions.HANDLE_TASKS_PERM, obj=org.skole, service=org.barnehage)
        reporter = type(org.reporter).objects.get(pk=org.reporter.pk)
        assert reporter.has_perm(permissions.HANDLE_TASKS_PERM, org.skole)
        assert not reporter.has_perm(permissions.HANDLE_TASKS_PERM, org.other_barnehage)
        assert not type(org.nav_staff).objects.get(pk=org.nav_staff.pk).has_perm(permissions.HANDLE_TASKS_PERM, org.skole)

    def test_it_writes_one_statement_and_a_second_grant_changes_nothing(self, org):
        concern = make_melding(org, submit=False)
        permissions.service_group(org.barnehage)
        with CaptureQueriesContext(connection) as queries:
            permissions.grant_to_service(perm=permissions.CONCERN_REPORTER, obj=concern, service=org.barnehage)
        assert [q["sql"] for q in queries.captured_queries if re.search(r"guardian|auth_permission|SAVEPOINT", q["sql"])] == [
            queries.captured_queries[-1]["sql"]
        ]
        permissions.grant_to_service(perm=permissions.CONCERN_REPORTER, obj=concern, service=org.barnehage)
        assert grants(concern, org.barnehage).count() == 1

    def test_it_refuses_a_permission_the_objects_model_does_not_have(self, org):
        # A service is no person data: any permission of its model may be granted on it.
        count = GroupObjectPermission.objects.count()
        for perm in ("org.no_such_permission", "referrals.handle_concerns"):
            with pytest.raises(Permission.DoesNotExist):
                permissions.grant_to_service(perm=perm, obj=org.skole, service=org.barnehage)
        assert GroupObjectPermission.objects.count() == count
        permissions.grant_to_service(perm=permissions.HANDLE_TASKS_PERM, obj=org.skole, service=org.barnehage)
        assert GroupObjectPermission.objects.count() == count + 1
