from django.core.management.base import BaseCommand, CommandError

from audit.rollup import ROLLUP_BATCH, STATE_ID, reads_rollup, rollup_supported


class Command(BaseCommand):
    help = (
        "Roll the access log's reads up for the access review's bursts and reads without a role, up to the log's last row (a backfill:"
        " the beat's task does the same each minute). Waits for a roll-up that is running. A changed"
        " AUDIT_BURST_MINUTES rebuilds the roll-up from the first row."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=ROLLUP_BATCH, help="access-log ids per transaction")

    def handle(self, *args, batch_size, **options):
        if not rollup_supported():
            raise CommandError("The roll-up needs PostgreSQL; on SQLite the access review counts live.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        moved = reads_rollup(
            batch=batch_size, budget_seconds=None, wait=True,
            progress=lambda total: self.stdout.write(f"  {total} access-log ids rolled up", ending="\n"),
        )
        from audit.models import ReadRollup

        state = ReadRollup.objects.get(pk=STATE_ID)
        self.stdout.write(f"OK: {moved} ids rolled up now; the roll-up is at id {state.last_id} ({state.seconds} s windows).")
