"""people.E002: a table holding a person with object permissions of its own must need a reason for every grant."""
from people import checks


class PersonDataCheckTests:
    def test_it_accepts_the_installed_models(self):
        assert checks.person_data_grants_need_a_reason(None) == []

    def test_it_refuses_a_person_table_with_permissions_that_grants_would_not_question(self, monkeypatch):
        # As if the concern were forgotten in org.permissions: grants on it would pass as "not person data".
        monkeypatch.setattr(checks, "PERSON_DATA_MODELS", tuple(m for m in checks.PERSON_DATA_MODELS if m != "referrals.concern"))

        errors = checks.person_data_grants_need_a_reason(None)

        assert [e.id for e in errors] == ["people.E002"]
        assert "referrals.Concern" in errors[0].msg

    def test_it_accepts_a_table_listed_as_not_person_data_with_a_reason(self, monkeypatch):
        monkeypatch.setattr(checks, "NOT_PERSON_DATA", {})

        errors = checks.person_data_grants_need_a_reason(None)

        assert [e.msg.split(" ")[0] for e in errors] == ["referrals.BreakGlassAccess"]
