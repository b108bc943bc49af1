from django.core.management.base import BaseCommand, CommandError

from audit.verify import access_log_verify


class Command(BaseCommand):
    help = "Verify the access log's hash chain. Exits non-zero naming the first broken row."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--database", default="default")

    def handle(self, *args, batch_size, database, **options):
        report = access_log_verify(batch_size=batch_size, using=database)
        if not report.ok:
            raise CommandError(
                f"Access log chain broken at row id {report.broken_id}: {report.reason} "
                f"({report.rows} rows verified before it)."
            )
        self.stdout.write(f"OK: {report.rows} access log rows chained; head id {report.head_id}, hash {report.head_hash}.")
