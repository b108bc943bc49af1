"""Bokmål is the default whatever the browser asks for; a chosen language sticks."""
import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


class DefaultLanguageTests:
    def test_it_answers_in_bokmaal_to_an_english_browser(self, client):
        response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
        assert response["Content-Language"] == "nb"
        assert "Logg inn" in response.content.decode()

    def test_it_answers_in_english_once_the_user_chose_english(self, client):
        client.post(reverse("set_language"), {"language": "en", "next": "/"})
        response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="nb")
        assert response["Content-Language"] == "en"
        assert "Log in" in response.content.decode()
