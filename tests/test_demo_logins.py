"""The printed demo logins are the seeded users, every receiving service's included (issue 7, point 14)."""
import io
import re
import subprocess
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse

from org.models import Membership
from referrals.models import Concern, Referral
from workflows.demo import seed_demo

MAKEFILE = Path(settings.BASE_DIR) / "Makefile"


def printed_logins() -> dict[str, str]:
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Demo logins (password: demo):"
    return dict(re.fullmatch(r"  (\S+)\s+(.+)", line).groups() for line in lines[1:])


class DemoLoginsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_demo()
    def test_it_prints_every_seeded_user_with_a_working_password(self):
        logins = printed_logins()
        members = set(Membership.objects.filter(active=True).values_list("user__username", flat=True))
        assert members <= set(logins), members - set(logins)
        assert "admin" in logins
        for user in get_user_model().objects.filter(username__in=logins):
            assert user.check_password("demo"), user.username

    def test_it_names_a_user_of_every_receiving_service(self):
        # Every service the demo sends something to: concerns, referrals, routing queues.
        logins = printed_logins()
        receiving = {
            *Concern.objects.values_list("receiving_service__name", flat=True),
            *Referral.objects.exclude(target_service=None).values_list("target_service__name", flat=True),
            *Referral.objects.exclude(routing_service=None).values_list("routing_service__name", flat=True),
        }
        assert len(receiving) >= 5
        listed = " ".join(logins.values())
        assert sorted(name for name in receiving if name not in listed) == []

    def test_the_slt_coordinator_lands_on_the_insights(self):
        # Issue 11, point 7: SLT works at system level, so the demo's `slt` starts on the insights.
        self.client.force_login(get_user_model().objects.get(username="slt"))
        response = self.client.get(reverse("home"))
        assert response.status_code == 302
        assert response["Location"] == reverse("insights:index")

    def test_it_follows_the_data(self):
        user = get_user_model().objects.create_user("ny-bruker")
        Membership.objects.create(user=user, service=Membership.objects.first().service)
        assert "ny-bruker" in printed_logins()
        user.is_active = False
        user.save(update_fields=["is_active"])
        assert "ny-bruker" not in printed_logins()


class MakeRunTests:
    def recipe(self, target: str) -> str:
        text = MAKEFILE.read_text()
        match = re.search(rf"^{target}:.*\n((?:\t.*\n|\n)*?)(?=^\S|\Z)", text, re.M)
        assert match, target
        return match.group(1)

    def test_it_prints_the_logins_from_the_data_not_a_list(self):
        run = self.recipe("run")
        assert "manage.py demo_logins" in run
        assert "barnehage," not in run and "helsesykepleier," not in run

    def test_it_runs_each_worker_and_beat_under_the_supervisor_with_its_log(self):
        # tools/supervise.py appends each program's output to its log (tests/notifications/test_queues.py).
        run = self.recipe("run")
        assert "tools/supervise.py" in run
        for log in ("worker-sweeps", "worker-mail", "beat"):
            assert f"--program {log} $(LOG_DIR)/{log}.log " in run, log
            assert not re.search(rf"[^>]> *\S*{log}\.log", run), log
        assert "worker -Q sweeps " in run and "worker -Q mail " in run

    def test_each_run_starts_a_dated_section_after_the_earlier_runs(self, tmp_path):
        (tmp_path / "worker-sweeps.log").write_text("earlier run: worker ready\n")
        for _ in range(2):
            subprocess.run(["make", "-s", "log-header", f"LOG_DIR={tmp_path}"], cwd=settings.BASE_DIR, check=True, timeout=60)
        worker = (tmp_path / "worker-sweeps.log").read_text().splitlines()
        beat = (tmp_path / "beat.log").read_text().splitlines()
        assert worker[0] == "earlier run: worker ready"
        assert [bool(re.fullmatch(r"==== make run, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC ====", line)) for line in worker[1:]] == [True, True]
        assert len(beat) == 2 and beat[0].startswith("==== make run, ")


class ReadmeTests:
    def test_it_names_every_demo_login(self):
        from workflows.demo import USERS

        readme = (Path(settings.BASE_DIR) / "README.md").read_text()
        assert [name for name, *_ in USERS if f"`{name}`" not in readme] == []
