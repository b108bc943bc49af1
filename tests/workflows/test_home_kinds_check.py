"""The system check that every registry entry's ``home_kinds`` names a kind of service that exists
(org.Service.Kind): a misspelt kind would never match a user, and they would land elsewhere."""
import dataclasses

from django.core import checks

from workflows import processes as registry


def errors_of(check_id):
    return [e for e in checks.run_checks() if e.id == check_id]


class HomeKindsCheckTests:
    def test_it_finds_nothing_wrong_with_the_real_registry(self):
        assert errors_of("workflows.E002") == []

    def test_it_reports_a_home_kind_that_is_no_kind_of_service(self, monkeypatch):
        # "police" is the English word; the kind is "politi" (Service.Kind.POLITI).
        broken = [dataclasses.replace(p, home_kinds=("police",)) if p.name == "youth_contract" else p for p in registry.processes()]
        monkeypatch.setattr(registry, "REGISTRY", broken)
        (error,) = errors_of("workflows.E002")
        assert error.msg == "process 'youth_contract': home kind 'police' is no kind of service (org.Service.Kind)"
        assert "politi" in error.hint
        # The other registry check does not mistake it for a missing hook.
        assert errors_of("workflows.E001") == []
