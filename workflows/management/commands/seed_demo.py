from django.core.management.base import BaseCommand

from workflows.demo import SERVICES, USERS, seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo municipality, one user per role (password 'demo'), the service catalogue, example concerns, "
        "and contacts, consents and referrals in every status. Demo mode only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--skip", action="append", default=[], metavar="PROCESS",
                            help="Seed no cases of this registered process (repeatable), e.g. --skip referral.")

    def handle(self, *args, **options):
        seed_demo(skip=tuple(options["skip"]))
        names = ", ".join([u[0] for u in USERS] + ["admin"])
        self.stdout.write(self.style.SUCCESS(f"Demo municipality ready: {len(SERVICES)} services; users {names} (password: demo)"))
