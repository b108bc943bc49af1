"""The 403 and 404 pages are one language: bokmål by default, English when chosen (issue 7, point 1).

viewflow's own 403 page mixed languages ("You har ikke tilgang til denne siden": its default user
name "You" is not translatable) and printed the exception's English message.
"""
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import permission_denied

from tests.test_i18n_pages import _Page

pytestmark = pytest.mark.django_db


def visible_text(response) -> str:
    """What is seen or read aloud (the lock icon is aria-hidden, a glyph, not a word)."""
    page = _Page()
    page.feed(response.content.decode())
    return "\n".join(page.chunks)


def render_403(user, language):
    request = RequestFactory().get("/workflow/inbox/")
    request.user = user
    with translation.override(language):
        request.LANGUAGE_CODE = language
        return permission_denied(request, PermissionDenied("Internal detail that must not be shown"))


class ForbiddenPageTests:
    def test_it_tells_a_logged_in_user_in_bokmal(self):
        user = get_user_model().objects.create_user("kari", first_name="Kari")
        response = render_403(user, "nb")
        assert response.status_code == 403
        text = visible_text(response)
        assert "Ingen tilgang" in text
        assert "Du har ikke tilgang til denne siden." in text
        assert "Gå til forsiden" in text
        for english in ("You", "Access Forbidden", "have no rights", "Internal detail", "lock"):
            assert english not in text, english

    def test_it_asks_an_anonymous_visitor_to_log_in(self):
        response = render_403(AnonymousUser(), "nb")
        text = visible_text(response)
        assert "Du er ikke logget inn." in text
        assert "Logg inn" in text
        assert 'href="/accounts/login/?next=/workflow/inbox/"' in response.content.decode()

    def test_it_is_english_in_english(self):
        user = get_user_model().objects.create_user("kari")
        text = visible_text(render_403(user, "en"))
        assert "You do not have access to this page." in text
        assert "har ikke" not in text and "Ingen tilgang" not in text


class NotFoundPageTests:
    def test_it_says_not_found_in_bokmal_with_no_word_read_from_the_icon(self, client, org):
        # Also the answer to every "not yours" (config.urls.permission_denied).
        client.force_login(org.reporter)
        response = client.get("/concerns/00000000-0000-0000-0000-000000000000/")
        assert response.status_code == 404
        text = visible_text(response)
        assert "Fant ikke siden" in text
        assert "Gå til forsiden" in text
        assert 'aria-hidden="true">not_interested<' in response.content.decode()
        assert "not_interested" not in text


class ExpiredFormPageTests:
    def test_it_explains_a_refused_form_in_bokmal(self, org):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(org.reporter)
        response = client.post("/concerns/ny/", {"given_name": "Emma"})
        assert response.status_code == 403
        text = visible_text(response)
        assert "Skjemaet er utløpt" in text
        assert "Ingenting ble lagret." in text
        for english in ("Forbidden", "CSRF", "Emma"):
            assert english not in text, english
