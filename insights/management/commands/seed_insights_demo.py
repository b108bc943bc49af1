from django.core.management.base import BaseCommand

from workflows.demo import seed_demo
from workflows.processes import processes


class Command(BaseCommand):
    help = (
        "After seed_demo: the demo municipality's school and kindergarten areas, a year of de-identified history "
        "(concerns, referrals, youth contracts, individual plans and their deadlines) and a refresh of the insights; "
        "SLT's forums with a year of meetings, and the substance-policy plan with its measures. "
        "Idempotent. Demo mode only."
    )

    def handle(self, *args, **options):
        from insights import demo, demo_forums, demo_measures

        # The municipality, its services and users as seed_demo keeps them (no process's cases: those
        # are seed_demo's own run's); refuses outside demo mode.
        seeded = seed_demo(skip=tuple(process.name for process in processes()))
        demo.seed(seeded)
        demo_forums.seed(seeded)
        demo_measures.seed(seeded)
        self.stdout.write(self.style.SUCCESS("Insights demo ready: areas, a year of history, the rollup refreshed, forums, plan measures."))
