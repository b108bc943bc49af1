"""``manage.py access_grants_check``: list every grant on person data without a reason; exit 1 if any."""
from django.core.management.base import BaseCommand, CommandError

from consent.grants import grants_without_reason


class Command(BaseCommand):
    help = "Find object permissions on person data that rest on neither ownership nor a live ledger row."

    def handle(self, *args, **options):
        findings = 0
        for finding in grants_without_reason():
            findings += 1
            self.stdout.write(str(finding))
        if findings:
            raise CommandError(f"{findings} grant(s) without an ownership reason or a live ledger row")
        self.stdout.write("OK: every grant on person data rests on ownership or a live ledger row.")
