from django.core.management.base import BaseCommand

from referrals import contact_stats
from referrals.models import Contact, ContactStat, Referral


class Command(BaseCommand):
    help = (
        "Count the contact statistics (referrals.ContactStat) again from the contacts and referrals themselves: after rows"
        " were written around the services (a data fix, a bulk import). Safe while the services write."
    )

    def handle(self, *args, **options):
        rows = contact_stats.rebuild(Contact, Referral, ContactStat)
        self.stdout.write(f"OK: {rows} counter rows, counted from {Contact.objects.count()} contacts.")
