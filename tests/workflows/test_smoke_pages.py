"""Every main page renders for the personas who use it (catches template and wiring errors)."""
import pytest
from django.urls import reverse

from tests.factories import advance, make_consultation, make_melding

pytestmark = pytest.mark.django_db


class PagesRenderTests:
    def test_it_renders_the_reporter_pages(self, client, org):
        concern = make_melding(org)
        client.force_login(org.reporter)
        for url in [reverse("concerns:index"), reverse("concerns:create"), reverse("concerns:detail", args=[concern.code]), reverse("notifications:index")]:
            response = client.get(url)
            assert response.status_code == 200, url
        assert concern.reference.encode() in client.get(reverse("concerns:index")).content

    def test_it_renders_the_caseworker_pages_in_every_state(self, client, org):
        client.force_login(org.caseworker)
        for state in ["received", "investigating", "closed", "investigated"]:
            concern = advance(make_melding(org), org, state)
            response = client.get(reverse("concerns:detail", args=[concern.code]))
            assert response.status_code == 200, state
        consultation = make_consultation(org)
        assert client.get(reverse("concerns:detail", args=[consultation.code])).status_code == 200
        response = client.get(reverse("concerns:intake"))
        assert response.status_code == 200
        assert consultation.reference.encode() in response.content
        assert client.get(reverse("workflow:inbox")).status_code == 200
        assert client.get(reverse("workflow:queue")).status_code == 200
