"""Stored purposes are shown translated on every page that lists them (issue 7, point 1): the
transparency report, the consent page's disclosures and the access review."""
import pytest
from django.template import Context, Template
from django.utils import translation

from audit.labels import purpose_label

SHOWN = Template("{% load audit_tags %}{{ purpose|purpose_label }}")


@pytest.mark.parametrize(
    "stored, nb, en",
    [
        ("referral completed", "henvisning fullført", "referral completed"),
        ("henvisning", "henvisning", "referral"),  # the disclosures' older Norwegian word
        ("consent recorded", "samtykke registrert", "consent recorded"),
        ("", "", ""),
    ],
)
def test_it_shows_a_stored_purpose_in_the_active_language(stored, nb, en):
    for language, expected in (("nb", nb), ("en", en)):
        with translation.override(language):
            assert purpose_label(stored) == expected
            assert SHOWN.render(Context({"purpose": stored})) == expected


def test_the_pages_that_list_purposes_use_it():
    from pathlib import Path

    from django.conf import settings

    for template in ("audit/review.html", "consent/consent_detail.html"):
        text = (Path(settings.BASE_DIR) / "templates" / template).read_text()
        assert "|purpose_label" in text and "{{ e.purpose }}" not in text and "{{ d.purpose }}" not in text, template


@pytest.mark.django_db
def test_the_admin_log_list_shows_the_purposes_translated(admin_client):
    from audit.models import AccessLog

    AccessLog.objects.create(action="view", object_type="people.person", object_id=1, purpose="referral completed")
    html = admin_client.get("/admin/audit/accesslog/").content.decode()
    assert "henvisning fullført" in html
    assert ">referral completed<" not in html
