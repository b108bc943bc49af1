"""The access log of a concern: every read and change is written; only leaders may read it.

Personas: ``reporter`` and ``reporter_leader`` (Solsiden barnehage), ``caseworker`` and
``bv_leader`` (Barneverntjenesten), and the outsiders ``nav_staff``, ``slt_staff``, ``other_bh_staff``.
"""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AccessLog
from org.models import Membership
from workflows.concern import services as svc
from tests.factories import advance, make_child, make_consultation, make_melding, member

pytestmark = pytest.mark.django_db


def log_rows(concern, **filters):
    return AccessLog.objects.filter(object_type="referrals.concern", object_id=concern.pk, **filters)


# Each change: (how to get the concern into place, the change, who makes it, which service acts).
CHANGES = {
    "draft_update": (
        lambda org: make_melding(org, submit=False),
        lambda org, c: svc.concern_draft_update(concern=c, user=org.reporter, version=svc.concern_version(c), observations="Ny tekst."),
        "reporter", "barnehage",
    ),
    "submit": (
        lambda org: make_melding(org, submit=False),
        lambda org, c: svc.concern_submit(concern=c, user=org.reporter),
        "reporter", "barnehage",
    ),
    "confirm_receipt": (
        make_melding,
        lambda org, c: svc.concern_confirm_receipt(concern=c, user=org.caseworker),
        "caseworker", "barnevern",
    ),
    "review": (
        lambda org: advance(make_melding(org), org, "received"),
        lambda org, c: svc.concern_review(concern=c, user=org.caseworker, decision="close", justification="Ingen grunn."),
        "caseworker", "barnevern",
    ),
    "extend": (
        lambda org: advance(make_melding(org), org, "investigating"),
        lambda org, c: svc.concern_extend_investigation(concern=c, user=org.caseworker, reason="Venter på BUP"),
        "caseworker", "barnevern",
    ),
    "conclude": (
        lambda org: advance(make_melding(org), org, "investigating"),
        lambda org, c: svc.concern_conclude_investigation(concern=c, user=org.caseworker, outcome="measures"),
        "caseworker", "barnevern",
    ),
    "feedback": (
        lambda org: advance(make_melding(org), org, "investigating"),
        lambda org, c: svc.concern_send_feedback(concern=c, user=org.caseworker, kind="initial"),
        "caseworker", "barnevern",
    ),
    "answer": (
        make_consultation,
        lambda org, c: svc.consultation_answer(concern=c, user=org.caseworker, advice="Snakk med foreldrene."),
        "caseworker", "barnevern",
    ),
    "upgrade": (
        make_consultation,
        lambda org, c: svc.consultation_upgrade(
            consultation=c, user=org.reporter, person=make_child(org, start=700), parents_informed=True, child_informed=True
        ),
        "reporter", "barnehage",
    ),
}


class ConcernViewLogTests:
    def test_it_logs_a_view_when_the_caseworker_opens_the_concern(self, client, org):
        concern = make_melding(org)
        client.force_login(org.caseworker)
        client.get(reverse("concerns:detail", args=[concern.code]))
        row = log_rows(concern, action="view").get()
        assert (row.user, row.service, row.person) == (org.caseworker, org.barnevern, concern.person)

    def test_it_logs_the_reporters_view_under_the_reporting_service(self, client, org):
        concern = make_melding(org)
        client.force_login(org.reporter)
        client.get(reverse("concerns:detail", args=[concern.code]))
        assert log_rows(concern, action="view").get().service == org.barnehage

    def test_it_logs_every_view(self, client, org):
        concern = make_melding(org)
        client.force_login(org.caseworker)
        for _ in range(3):
            client.get(reverse("concerns:detail", args=[concern.code]))
        assert log_rows(concern, action="view", user=org.caseworker).count() == 3

    @pytest.mark.parametrize("persona", ["nav_staff", "other_bh_staff"])
    def test_it_logs_no_view_for_a_refused_request(self, client, org, persona):
        concern = make_melding(org)
        client.force_login(getattr(org, persona))
        assert client.get(reverse("concerns:detail", args=[concern.code])).status_code == 404
        assert not log_rows(concern, action="view").exists()


class ConcernChangeLogTests:
    @pytest.mark.parametrize("change", sorted(CHANGES))
    def test_it_logs_each_change(self, org, change):
        prepare, act, actor, service = CHANGES[change]
        concern = prepare(org)
        before = log_rows(concern, action="update").count()
        act(org, concern)
        assert log_rows(concern, action="update").count() == before + 1
        latest = log_rows(concern, action="update").order_by("-id").first()
        assert (latest.user, latest.service) == (getattr(org, actor), getattr(org, service))

    def test_it_logs_the_disclosure_when_a_melding_is_sent(self, org):
        concern = make_melding(org)
        row = log_rows(concern, action="disclose").get()
        assert (row.user, row.service, row.person) == (org.reporter, org.barnehage, concern.person)

    def test_it_logs_the_creation_of_the_child(self, org):
        concern = make_melding(org)
        assert AccessLog.objects.filter(
            action="create", object_type="people.person", object_id=concern.person.pk, user=org.reporter
        ).exists()

    def test_it_logs_nothing_for_a_refused_change(self, org):
        concern = advance(make_melding(org), org, "received")
        before = log_rows(concern).count()
        with pytest.raises(ValidationError):
            svc.concern_review(concern=concern, user=org.caseworker, decision="close", justification="")
        assert log_rows(concern).count() == before

    def test_it_keeps_log_rows_append_only(self, org):
        row = log_rows(make_melding(org)).first()
        row.purpose = "rewritten"
        with pytest.raises(ValueError):
            row.save()


class AccessLogPageTests:
    def test_it_shows_the_barnevern_leader_every_entry(self, client, org):
        concern = advance(make_melding(org), org, "received")
        client.force_login(org.caseworker)
        client.get(reverse("concerns:detail", args=[concern.code]))
        client.force_login(org.bv_leader)
        response = client.get(reverse("concerns:log", args=[concern.code]))
        assert response.status_code == 200
        shown = {e.pk for e in response.context["entries"]}
        assert shown == set(log_rows(concern).values_list("pk", flat=True))
        assert {org.reporter.pk, org.caseworker.pk} <= {e.user_id for e in response.context["entries"]}

    def test_it_pages_a_long_log_newest_first_without_a_gap_or_a_repeat(self, client, org):
        from audit.selectors import LOG_PAGE_SIZE
        from audit.services import access_log_write

        concern = advance(make_melding(org), org, "received")
        for _ in range(LOG_PAGE_SIZE + 5):
            access_log_write(user=org.caseworker, action="view", obj=concern, person=concern.person, purpose="concern", service=org.barnevern)
        client.force_login(org.bv_leader)
        first = client.get(reverse("concerns:log", args=[concern.code]))
        assert len(first.context["entries"]) == LOG_PAGE_SIZE
        assert first.context["next_cursor"] and 'rel="next"' in first.content.decode()
        second = client.get(reverse("concerns:log", args=[concern.code]), {"etter": first.context["next_cursor"]})
        shown = [e.pk for e in first.context["entries"]] + [e.pk for e in second.context["entries"]]
        # Every row, newest first, once; but the newest: the second page's own read, newer than its cursor.
        assert shown == list(log_rows(concern).order_by("-at", "-id").values_list("pk", flat=True))[1:]
        assert second.context["next_cursor"] is None

    @pytest.mark.parametrize("persona", ["caseworker", "reporter"])
    def test_it_hides_the_log_from_plain_staff(self, client, org, persona):
        concern = make_melding(org)
        client.force_login(getattr(org, persona))
        assert client.get(reverse("concerns:log", args=[concern.code])).status_code == 404

    @pytest.mark.parametrize("persona", ["nav_staff", "slt_staff", "other_bh_staff"])
    def test_it_hides_the_log_from_outsiders(self, client, org, persona):
        concern = make_melding(org)
        client.force_login(getattr(org, persona))
        assert client.get(reverse("concerns:log", args=[concern.code])).status_code == 404

    def test_it_hides_the_log_from_an_outside_services_leader(self, client, org):
        concern = make_melding(org)
        client.force_login(member(org.nav, role=Membership.Role.LEADER))
        assert client.get(reverse("concerns:log", args=[concern.code])).status_code == 404

    def test_it_shows_the_reporting_leader_only_its_own_services_entries(self, client, org):
        concern = advance(make_melding(org), org, "investigating")
        svc.concern_extend_investigation(concern=concern, user=org.caseworker, reason="Venter på BUP")
        client.force_login(org.reporter_leader)
        response = client.get(reverse("concerns:log", args=[concern.code]))
        assert response.status_code == 200
        entries = response.context["entries"]
        assert entries and {e.service_id for e in entries} == {org.barnehage.pk}
        assert org.caseworker.pk not in {e.user_id for e in entries}
