"""org.widgets.CheckboxList writes in Python the markup Django's templates write for
CheckboxSelectMultiple (issue 14: a consent form's sixty services took 15 ms of templates)."""
import re

import pytest
from django import forms

from org.widgets import CheckboxList

CHOICES = [(1, "Tildelingskontoret"), (2, "Rask psykisk helsehjelp"), (3, "NAV <Fjordvik> & co")]


def _same(html: str) -> str:
    """The markup as a browser reads it: runs of whitespace (the templates' line breaks) as one
    space, none between tags."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.parametrize("value, attrs", [
    (None, None),
    ([2], {"id": "id_grantees"}),
    (["1", "3"], {"id": "id_grantees", "class": "sh-checks", "aria-describedby": "id_grantees_helptext", "disabled": True}),
    ([], {"id": "id_x", "data-on": False}),
])
def test_it_writes_what_djangos_templates_write(value, attrs):
    ours = CheckboxList(choices=CHOICES).render("grantees", value, attrs=attrs)
    theirs = forms.CheckboxSelectMultiple(choices=CHOICES).render("grantees", value, attrs=attrs)
    assert _same(ours) == _same(theirs)
    assert "NAV &lt;Fjordvik&gt; &amp; co" in ours and "<Fjordvik>" not in ours


def test_it_writes_groups_as_django_does():
    grouped = [("Kommunen", [(1, "Tildelingskontoret")]), ("Andre", [(2, "Rask psykisk helsehjelp")])]
    ours = CheckboxList(choices=grouped).render("grantees", [2], attrs={"id": "id_g"})
    theirs = forms.CheckboxSelectMultiple(choices=grouped).render("grantees", [2], attrs={"id": "id_g"})
    assert _same(ours) == _same(theirs)


def test_a_model_form_field_renders_and_reads_its_boxes(db):
    from org.models import Service
    from tests.factories import make_org

    org = make_org()

    class Form(forms.Form):
        services = forms.ModelMultipleChoiceField(queryset=Service.objects.order_by("pk"), widget=CheckboxList)

    html = str(Form(initial={"services": [org.barnevern.pk]})["services"])
    assert f'value="{org.barnevern.pk}" id="id_services_' in html and "checked" in html
    form = Form(data={"services": [str(org.barnevern.pk)]})
    assert form.is_valid() and list(form.cleaned_data["services"]) == [org.barnevern]
