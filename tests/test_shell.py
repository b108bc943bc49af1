"""The shell around every page (issue 7): a message shows once, the login page switches between bokmål
and English before anyone has logged in (point 14), and no icon word or unnamed control reaches a
screen reader (points 1 and 2)."""
import re

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.factories import make_org

pytestmark = pytest.mark.django_db

SAVED = "Endringen er lagret."


def with_message(client, text):
    """Put a success message in the client's messages cookie, as a redirecting view would."""
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    storage.add(messages.SUCCESS, text)
    response = HttpResponse()
    storage.update(response)
    client.cookies[storage.cookie_name] = response.cookies[storage.cookie_name].value


class MessageOnceTests:
    @pytest.mark.parametrize("page", ["notifications:index", "workflow:inbox", "concerns:index"])
    def test_it_renders_a_success_message_once(self, client, page):
        org = make_org()
        client.force_login(org.reporter)
        with_message(client, SAVED)
        html = client.get(reverse(page)).content.decode()
        assert html.count(SAVED) == 1
        assert 'data-testid="messages"' in html

    def test_it_shows_the_message_on_the_next_page_only(self, client):
        org = make_org()
        client.force_login(org.reporter)
        with_message(client, SAVED)
        client.get(reverse("notifications:index"))
        assert SAVED not in client.get(reverse("notifications:index")).content.decode()


class LoginLanguageTests:
    def test_it_switches_the_login_page_to_english_and_back_with_a_csrf_protected_post(self, db):
        client = Client(enforce_csrf_checks=True)
        page = client.get(reverse("login") + "?next=/concerns/")
        html = page.content.decode()
        assert "<h1>Logg inn</h1>" in html
        form = re.search(r'<form action="%s" method="post"[^>]*data-testid="language-switch">(.*?)</form>' % re.escape(reverse("set_language")), html, re.S)
        assert form and 'name="language" value="en"' in form.group(1)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1)).group(1)

        refused = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/?next=/concerns/"})
        assert refused.status_code == 403

        switched = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/?next=/concerns/", "csrfmiddlewaretoken": token})
        assert switched.status_code == 302 and switched["Location"] == "/accounts/login/?next=/concerns/"
        english = client.get(switched["Location"]).content.decode()
        assert "<h1>Log in</h1>" in english and 'value="nb"' in english

        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', english).group(1)
        client.post(reverse("set_language"), {"language": "nb", "next": "/accounts/login/", "csrfmiddlewaretoken": token})
        assert "<h1>Logg inn</h1>" in client.get(reverse("login")).content.decode()


class IconWordsTests:
    @pytest.mark.parametrize("page", ["notifications:index", "workflow:queue", "concerns:index"])
    def test_it_hides_every_icon_word_and_names_the_menu_controls(self, client, page):
        org = make_org()
        client.force_login(org.reporter)
        html = client.get(reverse(page)).content.decode()
        icons = re.findall(r"<[^>]*class=\"[^\"]*\bmaterial-icons\b[^>]*>", html)
        assert icons and all('aria-hidden="true"' in tag for tag in icons), icons
        assert re.search(r'<button[^>]*aria-label="Åpne navigasjonsmenyen"[^>]*data-testid="menu-button"', html)
        toggle = re.search(r'<button[^>]*data-testid="user-menu-toggle"[^>]*>(.*?)</button>', html, re.S)
        assert toggle and re.search(r'class="sh-visually-hidden">[^<]+<', toggle.group(1))
        assert 'data-testid="logout"' in html and "Logg ut" in html
