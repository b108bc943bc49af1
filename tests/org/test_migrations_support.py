"""The kernel move's content-type rename (org/migrations_support.py), including a database that
was migrated back and forward again: Django then has made an unused duplicate under the new label."""
import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from guardian.models import GroupObjectPermission

from org.migrations_support import move_content_types

forwards, backwards = move_content_types("referrals", "org", ["zzmoved"])


def old_type_with_a_grant():
    moving = ContentType.objects.create(app_label="referrals", model="zzmoved")
    perm = Permission.objects.create(content_type=moving, codename="handle_zzmoved", name="x")
    group = Group.objects.create(name="service:zz")
    # bulk_create: guardian's save() would look for a model class behind the made-up content type.
    GroupObjectPermission.objects.bulk_create([GroupObjectPermission(group=group, permission=perm, content_type=moving, object_pk="1")])
    return moving


class MoveContentTypesTests:
    def test_it_renames_the_content_type_in_place(self, db):
        moving = old_type_with_a_grant()

        forwards(apps, None)

        moving.refresh_from_db()
        assert (moving.app_label, moving.model) == ("org", "zzmoved")
        assert GroupObjectPermission.objects.filter(content_type=moving).count() == 1

    def test_it_drops_an_unused_duplicate_left_by_a_rollback(self, db):
        moving = old_type_with_a_grant()
        duplicate = ContentType.objects.create(app_label="org", model="zzmoved")
        Permission.objects.create(content_type=duplicate, codename="handle_zzmoved", name="x")

        forwards(apps, None)

        moving.refresh_from_db()
        assert moving.app_label == "org"
        assert not ContentType.objects.filter(pk=duplicate.pk).exists()
        assert Permission.objects.get(codename="handle_zzmoved").content_type_id == moving.pk

    def test_it_refuses_to_choose_between_two_used_content_types(self, db):
        moving = old_type_with_a_grant()
        duplicate = ContentType.objects.create(app_label="org", model="zzmoved")
        GroupObjectPermission.objects.bulk_create([GroupObjectPermission(
            group=Group.objects.create(name="service:yy"), content_type=duplicate, object_pk="2",
            permission=Permission.objects.create(content_type=duplicate, codename="handle_zzmoved", name="x"),
        )])

        with pytest.raises(RuntimeError, match="both"):
            forwards(apps, None)

        moving.refresh_from_db()
        assert moving.app_label == "referrals"

    def test_it_moves_back_on_rollback(self, db):
        moving = old_type_with_a_grant()
        forwards(apps, None)

        backwards(apps, None)

        moving.refresh_from_db()
        assert moving.app_label == "referrals"
