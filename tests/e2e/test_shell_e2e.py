"""The login page's language switch in Chromium (issue 7, point 14): English before logging in, and back."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class LoginLanguageTests:
    def test_it_switches_the_login_page_to_english_and_back(self, page):
        page.goto(reverse("login"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Logg inn")
        page.get_by_test_id("language-switch").get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_test_id("language-switch").get_by_role("button", name="Norsk (bokmål)").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Logg inn")
