"""Where persons are held (issue 13, point 7): every foreign key to a person is declared in
people.holders, or the site refuses to start (system check people.E001)."""
import pytest
from django.core import checks

from org.models import Service
from people import holders
from people.holders import Holding, register, undeclared_person_keys
from people.models import Person


def without(monkeypatch, *keys):
    """The holders registry with the declarations of ``keys`` ((model label, field), lower case) taken out."""
    kept = {key: holding for key, holding in holders._registry.items() if key not in keys}
    assert len(kept) == len(holders._registry) - len(keys), "a key to remove is not registered"
    monkeypatch.setattr(holders, "_registry", kept)


def people_errors():
    return [e for e in checks.run_checks() if e.id == "people.E001"]


class UndeclaredPersonKeysTests:
    def test_it_finds_every_foreign_key_to_a_person_declared(self):
        assert undeclared_person_keys() == []

    def test_it_reports_a_foreign_key_no_holding_declares(self, monkeypatch):
        without(monkeypatch, ("referrals.concern", "person"))
        assert undeclared_person_keys() == ["referrals.Concern.person"]

    def test_it_reports_an_undeclared_many_to_many_to_persons(self, monkeypatch):
        without(monkeypatch, ("consent.consent_guardians", "person"))
        assert undeclared_person_keys() == ["consent.Consent_guardians.person"]

    def test_it_reports_the_append_only_log_when_undeclared(self, monkeypatch):
        without(monkeypatch, ("audit.accesslog", "person"), ("referrals.breakglassaccess", "person"))
        assert undeclared_person_keys() == ["audit.AccessLog.person", "referrals.BreakGlassAccess.person"]


class PersonKeysSystemCheckTests:
    def test_it_passes_with_every_key_declared(self):
        assert people_errors() == []

    def test_it_refuses_to_start_with_an_undeclared_key(self, monkeypatch):
        without(monkeypatch, ("referrals.contact", "person"))
        errors = people_errors()
        assert [e.msg for e in errors] == ["referrals.Contact.person points at a person but is not declared in people.holders."]
        assert errors[0].level == checks.ERROR


class HoldingDeclarationTests:
    def test_it_names_a_real_foreign_key_to_a_person_in_every_holding(self):
        assert holders.holdings(), "nothing is registered"
        for holding in holders.holdings():
            field = holding.model_class._meta.get_field(holding.person_field)
            assert field.related_model is Person and (field.many_to_one or field.one_to_one), holding
            for name in holding.services:
                assert holding.model_class._meta.get_field(name).related_model is Service, (holding, name)

    def test_it_keeps_only_the_access_log_on_merge(self):
        kept = {h.model for h in holders.holdings() if not h.merge}
        assert kept == {"audit.AccessLog"}

    def test_it_refuses_a_holding_kept_on_merge_without_a_reason(self, monkeypatch):
        monkeypatch.setattr(holders, "_registry", {})
        with pytest.raises(ValueError, match="must say why"):
            register(Holding("referrals.BreakGlassAccess", merge=False))
        assert holders.holdings() == []

    def test_it_refuses_a_second_different_declaration_of_the_same_key(self, monkeypatch):
        monkeypatch.setattr(holders, "_registry", {})
        register(Holding("referrals.Contact", services=("service",)))
        register(Holding("referrals.Contact", services=("service",)))  # the same again: harmless
        with pytest.raises(ValueError, match="declared twice"):
            register(Holding("referrals.Contact"))
        assert holders.holdings() == [Holding("referrals.Contact", services=("service",))]
