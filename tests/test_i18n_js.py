"""viewflow's script speaks bokmål too: "1 of 8 selected" in the task queue's bulk bar and the date
pickers' month names come from Django's JavaScript catalogue (issue 7, point 1)."""
import json

import pytest
from django.urls import reverse

from tests.factories import make_melding

pytestmark = pytest.mark.django_db


def catalogue_of(response) -> dict:
    """The catalogue object the script defines (``const newcatalog = {...};``)."""
    body = response.content.decode()
    if "const newcatalog = " not in body:
        return {}  # English: nothing to translate
    start = body.index("const newcatalog = ") + len("const newcatalog = ")
    return json.loads(body[start: body.index("};", start) + 1])


def first(value):
    return value[0] if isinstance(value, list) else value


class JavaScriptCatalogueTests:
    def test_it_translates_viewflows_selection_count(self, client):
        response = client.get(reverse("javascript-catalog"))
        assert response.status_code == 200
        catalogue = catalogue_of(response)
        # viewflow calls gettext(), which reads a plural entry's first form.
        assert first(catalogue["%(sel)s of %(cnt)s selected"]) == "%(sel)s av %(cnt)s valgt"
        assert first(catalogue["%(sel)s selected"]) == "%(sel)s valgt"
        assert first(catalogue["January"]) == "Januar"  # the date pickers', from django.contrib.admin's catalogue

    def test_it_is_english_in_english(self, client):
        client.post(reverse("set_language"), {"language": "en", "next": "/"})
        assert "%(sel)s selected" not in catalogue_of(client.get(reverse("javascript-catalog")))

    def test_the_queue_loads_the_catalogue_before_viewflows_script(self, client, org):
        make_melding(org)
        client.force_login(org.caseworker)
        html = client.get(reverse("workflow:queue")).content.decode()
        catalogue = html.index(f'src="{reverse("javascript-catalog")}"')
        assert catalogue < html.index("viewflow.min.js")
