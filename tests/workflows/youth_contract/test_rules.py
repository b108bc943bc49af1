"""The youth contract's age and party rules on the exact birthdays (issue 8, "Must show").

Pure functions of a template and dates: the templates are the two standard rows as the data
migration writes them (unsaved copies, so an edited database cannot change what is tested).
"""
import datetime
import importlib

import pytest
from django.utils import translation

from referrals.models import ContractTemplate
from workflows.youth_contract.rules import (
    FOLLOWUP, GUARDIAN, POLICE, YOUNG_PERSON, duration_problem, eligibility_day, eligibility_problem, required_roles,
)

STANDARD = {row["code"]: row for row in importlib.import_module("referrals.migrations.0010_contract_templates").TEMPLATES}
D = datetime.date


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def police():
    return ContractTemplate(**STANDARD["politi-ungdomskontrakt"])


@pytest.fixture
def voluntary():
    return ContractTemplate(**STANDARD["frivillig-ungdomskontrakt"])


class PoliceAgeTests:
    born = D(2011, 6, 15)

    def test_it_accepts_the_15th_birthday(self, police):
        assert eligibility_problem(police, birth_date=self.born, on=D(2026, 6, 15)) is None

    def test_it_refuses_the_day_before_the_15th_birthday(self, police):
        problem = eligibility_problem(police, birth_date=self.born, on=D(2026, 6, 14))
        assert problem == "This contract is for ages 15 to 17; on 2026-06-14 the young person is 14."

    def test_it_accepts_the_day_before_the_18th_birthday(self, police):
        assert eligibility_problem(police, birth_date=self.born, on=D(2029, 6, 14)) is None

    def test_it_refuses_the_18th_birthday(self, police):
        problem = eligibility_problem(police, birth_date=self.born, on=D(2029, 6, 15))
        assert problem == "This contract is for ages 15 to 17; on 2029-06-15 the young person is 18."

    def test_it_judges_the_age_on_the_police_decision_not_the_start(self, police):
        assert eligibility_day(police, police_decision_on=D(2029, 6, 14), starts_on=D(2029, 6, 20)) == D(2029, 6, 14)

    def test_it_refuses_an_unknown_birth_date(self, police):
        assert "birth date is needed" in eligibility_problem(police, birth_date=None, on=D(2026, 6, 15))


class VoluntaryAgeTests:
    born = D(2003, 6, 15)

    def test_it_accepts_23(self, voluntary):
        assert eligibility_problem(voluntary, birth_date=self.born, on=D(2027, 6, 14)) is None

    def test_it_refuses_the_24th_birthday(self, voluntary):
        problem = eligibility_problem(voluntary, birth_date=self.born, on=D(2027, 6, 15))
        assert problem == "This contract is for ages up to and including 23; on 2027-06-15 the young person is 24."

    def test_it_judges_the_age_on_the_start(self, voluntary):
        assert eligibility_day(voluntary, police_decision_on=D(2027, 1, 1), starts_on=D(2027, 6, 15)) == D(2027, 6, 15)


class PartyTests:
    born = D(2009, 6, 15)

    def test_it_needs_a_guardian_signature_at_17(self, voluntary):
        assert required_roles(voluntary, birth_date=self.born, on=D(2027, 6, 14)) == (YOUNG_PERSON, GUARDIAN, FOLLOWUP)

    def test_it_needs_no_guardian_signature_at_18(self, voluntary):
        assert required_roles(voluntary, birth_date=self.born, on=D(2027, 6, 15)) == (YOUNG_PERSON, FOLLOWUP)

    def test_it_needs_the_police_signature_for_the_police_variant(self, police):
        assert required_roles(police, birth_date=self.born, on=D(2025, 1, 10)) == (YOUNG_PERSON, GUARDIAN, POLICE, FOLLOWUP)


class DurationTests:
    def test_it_refuses_an_end_before_the_start(self, police):
        assert duration_problem(police, starts_on=D(2026, 9, 1), ends_on=D(2026, 8, 31)) == (
            "The contract's end date must be on or after its start date."
        )

    def test_it_accepts_the_maximum_and_refuses_a_day_more(self, police):
        assert duration_problem(police, starts_on=D(2026, 9, 1), ends_on=D(2028, 9, 1)) is None
        assert duration_problem(police, starts_on=D(2026, 9, 1), ends_on=D(2028, 9, 2)) == "This contract may last at most 24 months."
