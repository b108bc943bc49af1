"""Print the demo's logins as the database has them, so `make run` never shows a stale list."""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Prefetch
from django.utils import translation

from org.models import Membership
from workflows.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "List every active demo user with their services and roles (password 'demo'). Demo mode only."

    def handle(self, *args, **options):
        with translation.override("en"):  # a developer's console, like the rest of `make run`'s output
            self._list()

    def _list(self):
        if not getattr(settings, "DEMO_MODE", False) and not getattr(settings, "EMBEDDED", False):
            raise CommandError("Demo logins are only listed in demo mode (DJANGO_DEMO=1).")
        memberships = Membership.objects.filter(active=True).select_related("service").order_by("service__name")
        users = (
            get_user_model().objects.filter(is_active=True)
            .prefetch_related(Prefetch("memberships", queryset=memberships, to_attr="active_memberships"))
            .order_by("username")
        )
        rows = []
        for user in users:
            if user.is_superuser:
                where = "administrator (Django admin)"
            elif user.active_memberships:
                where = "; ".join(f"{m.service.name} ({m.get_role_display().lower()})" for m in user.active_memberships)
            else:
                continue  # no service: logging in would show nothing
            rows.append((user.username, where))
        if not rows:
            raise CommandError("No demo users yet: run `make seed` (manage.py seed_demo) first.")
        width = max(len(name) for name, _ in rows)
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for name, where in rows:
            self.stdout.write(f"  {name.ljust(width)}  {where}")
