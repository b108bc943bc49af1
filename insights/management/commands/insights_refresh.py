from django.core.management.base import BaseCommand

from insights.models import CaseCount, DeadlineCount, StepDuration
from insights.services import rollup_refresh


class Command(BaseCommand):
    help = (
        "Recompute the insights' aggregate rows (case, deadline and step-duration counts) from the case records now"
        " (the beat's task does the same every ten minutes). Waits for a refresh that is running."
    )

    def handle(self, *args, **options):
        run = rollup_refresh()
        self.stdout.write(
            f"OK: {run.cases} cases read in {run.seconds:.1f} s; {CaseCount.objects.count()} case counts,"
            f" {DeadlineCount.objects.count()} deadline counts, {StepDuration.objects.count()} step durations."
        )
