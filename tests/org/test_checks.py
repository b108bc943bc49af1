"""The organisation kernel logs membership and person changes through a writer the audit app
registers at start-up; without one the site refuses to start (org.E001) and nothing is changed unlogged."""
import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from org import recording
from people.models import Person
from tests.factories import make_child


def org_errors():
    return [e for e in checks.run_checks() if e.id == "org.E001"]


class AccessLogWriterCheckTests:
    def test_it_passes_with_the_audit_apps_writer(self):
        assert recording.has_access_log_writer()
        assert org_errors() == []

    def test_it_refuses_to_start_without_a_writer(self, monkeypatch):
        monkeypatch.setattr(recording, "_writers", [])
        errors = org_errors()
        assert [(e.msg, e.level) for e in errors] == [
            ("No access-log writer is registered for membership and person changes.", checks.ERROR),
        ]

    def test_it_refuses_to_record_without_a_writer(self, monkeypatch):
        monkeypatch.setattr(recording, "_writers", [])
        with pytest.raises(ImproperlyConfigured):
            recording.record(user=None, action="update", obj=None)

    def test_it_registers_no_person_when_the_change_cannot_be_logged(self, monkeypatch, org):
        before = Person.objects.count()
        monkeypatch.setattr(recording, "_writers", [])
        with pytest.raises(ImproperlyConfigured):
            make_child(org, given="Emma")  # through people.services.person_get_or_create
        assert Person.objects.count() == before
