"""Reads and edits of person data in the Django admin are logged (via "admin", the real user).

Personas: ``drift``, a technical administrator (staff superuser, no membership of any service);
a child registered by the ``reporter`` of Solsiden barnehage, and a consent recorded for it.
"""
import datetime

import pytest
from django.urls import reverse

from audit.models import AccessLog
from tests.factories import make_child, make_consent, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def drift(client, settings):
    settings.REQUIRE_SECOND_FACTOR = False  # the second factor of /admin/ is tested in tests/accounts
    user = make_user("drift", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def admin_rows(user, **filters):
    return AccessLog.objects.filter(user=user, via=AccessLog.Via.ADMIN, **filters)


def change_form_data(response) -> dict:
    """The POST data of an admin change form exactly as shown (the main form and every inline)."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or field.disabled:
                continue
            key = form.add_prefix(name)
            if isinstance(value, (list, tuple)):
                data[key] = [str(v) for v in value]
            elif isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, datetime.date):
                data[key] = value.isoformat()
            else:
                data[key] = value
    return data


class AdminPersonLoggingTests:
    def test_it_logs_a_view_when_the_admin_opens_a_person(self, client, org, drift):
        child = make_child(org)
        response = client.get(reverse("admin:people_person_change", args=[child.pk]))
        assert response.status_code == 200
        row = admin_rows(drift, action="view", object_type="people.person", object_id=child.pk).get()
        assert (row.person, row.service, row.purpose) == (child, None, "admin")

    def test_it_logs_the_changed_field_names_of_an_admin_edit(self, client, org, drift):
        child = make_child(org, given="Emma")
        url = reverse("admin:people_person_change", args=[child.pk])
        data = change_form_data(client.get(url)) | {"approx_age": "7"}
        response = client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
        row = admin_rows(drift, action="update", object_type="people.person", object_id=child.pk).get()
        assert row.person == child
        assert row.changes == {"approx_age": None}  # the field, never the value of person data

    def test_it_shows_no_name_number_or_birth_date_on_the_person_page(self, client, org, drift):
        child = make_child(org, given="Ingeborg", family="Særnavn")
        page = client.get(reverse("admin:people_person_change", args=[child.pk])).content.decode()
        assert "Ingeborg" not in page and "Særnavn" not in page and child.national_id not in page

    def test_it_logs_old_and_new_values_of_fields_that_are_not_person_data(self, client, org, drift):
        child = make_child(org)
        url = reverse("admin:people_person_change", args=[child.pk])
        data = change_form_data(client.get(url)) | {"municipality": ""}
        assert client.post(url, data).status_code == 302
        row = admin_rows(drift, action="update", object_id=child.pk).get()
        assert row.changes == {"municipality": [org.municipality.pk, None]}

    def test_it_logs_nothing_as_changed_when_the_form_is_saved_unchanged(self, client, org, drift):
        child = make_child(org)
        url = reverse("admin:people_person_change", args=[child.pk])
        assert client.post(url, change_form_data(client.get(url))).status_code == 302
        assert not admin_rows(drift, action="update").exists()

    def test_it_logs_a_view_of_the_delete_confirmation_and_the_history(self, client, org, drift):
        child = make_child(org)
        client.get(reverse("admin:people_person_delete", args=[child.pk]))
        client.get(reverse("admin:people_person_history", args=[child.pk]))
        assert admin_rows(drift, action="view", person=child).count() == 2

    def test_it_shows_no_names_in_the_person_list(self, client, org, drift):
        make_child(org, given="Ingeborg", family="Særnavn")
        response = client.get(reverse("admin:people_person_changelist"))
        assert response.status_code == 200
        assert "Ingeborg" not in response.content.decode() and "Særnavn" not in response.content.decode()


class AdminConsentLoggingTests:
    def test_it_logs_a_view_when_the_admin_opens_a_consent(self, client, org, drift):
        child = make_child(org, birth=datetime.date(2010, 5, 5))
        consent = make_consent(user=org.reporter, service=org.barnehage, person=child, grantees=[org.skole], guardians=[], given_by_person=True)
        assert client.get(reverse("admin:consent_consent_change", args=[consent.pk])).status_code == 200
        row = admin_rows(drift, action="view", object_type="consent.consent", object_id=consent.pk).get()
        assert row.person == child


class AdminAccessLogTests:
    def test_it_logs_reading_the_access_log_list(self, client, org, drift):
        make_child(org)
        assert client.get(reverse("admin:audit_accesslog_changelist")).status_code == 200
        row = admin_rows(drift, action="view", object_type="audit.accesslog").get()
        assert (row.object_id, row.purpose) == (0, "access log read")

    def test_it_logs_reading_one_log_row_under_its_person(self, client, org, drift):
        child = make_child(org)
        entry = AccessLog.objects.filter(person=child).first()
        response = client.get(reverse("admin:audit_accesslog_change", args=[entry.pk]))
        assert response.status_code == 200
        assert "Emma" not in response.content.decode()
        row = admin_rows(drift, action="view", object_type="audit.accesslog", object_id=entry.pk).get()
        assert row.person == child

    def test_it_offers_no_add_change_or_delete(self, client, org, drift):
        child = make_child(org)
        entry = AccessLog.objects.filter(person=child).first()
        refused = (403, 404)  # the admin's "forbidden" may be answered as "not found"
        assert client.get(reverse("admin:audit_accesslog_add")).status_code in refused
        assert client.post(reverse("admin:audit_accesslog_change", args=[entry.pk]), {"purpose": "x"}).status_code in refused
        assert client.post(reverse("admin:audit_accesslog_delete", args=[entry.pk]), {"post": "yes"}).status_code in refused
        assert AccessLog.objects.filter(pk=entry.pk, purpose=entry.purpose).exists()


class AdminInlineLoggingTests:
    def test_it_logs_a_guardianship_added_in_the_admin_under_the_childs_person(self, client, org, drift):
        from people.models import Guardianship
        from tests.factories import make_guardian

        child = make_child(org)
        parent = make_guardian(child)
        Guardianship.objects.filter(child=child).delete()
        url = reverse("admin:people_person_change", args=[child.pk])
        data = change_form_data(client.get(url))
        prefix = "guardianships"
        data |= {f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-0-guardian": str(parent.pk), f"{prefix}-0-kind": "parent", f"{prefix}-0-child": str(child.pk)}
        response = client.post(url, data)
        assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
        guardianship = Guardianship.objects.get(child=child)
        row = admin_rows(drift, action="create", object_type="people.guardianship", object_id=guardianship.pk).get()
        assert row.person == child
        assert "guardian" in row.changes and row.changes["guardian"] is None  # who, by field name only

    def test_it_keeps_names_out_of_the_admins_own_history(self, client, org, drift):
        from django.contrib.admin.models import LogEntry

        child = make_child(org, given="Ingeborg")
        url = reverse("admin:people_person_change", args=[child.pk])
        assert client.post(url, change_form_data(client.get(url)) | {"approx_age": "9"}).status_code == 302
        entry = LogEntry.objects.get(object_id=str(child.pk))
        assert "Ingrid" not in entry.object_repr and "Ingeborg" not in entry.object_repr
        assert "Ingrid" not in client.get(reverse("admin:index")).content.decode()
