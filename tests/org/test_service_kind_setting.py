"""Which kinds of service may report concerns is data (issue 7, point 5): org.ServiceKindSetting,
seeded by org/0002 and kept by a technical administrator in the admin; so is the barnevernvakt
phone number of a municipality (point 13).

Personas: a technical administrator (``drift``, staff superuser); a barnehage reporter; SLT staff.
"""
import pytest
from django.urls import reverse

from org.models import Municipality, Service, ServiceKindSetting
from tests.factories import make_user

pytestmark = pytest.mark.django_db

OPPLYSNINGSPLIKT = {"barnehage", "skole", "helsestasjon", "skolehelsetjeneste", "fastlege", "ppt", "rustjeneste", "nav", "politi"}


@pytest.fixture
def admin_client(client, settings):
    settings.REQUIRE_SECOND_FACTOR = False
    client.force_login(make_user("drift", is_staff=True, is_superuser=True))
    return client


class SeededSettingTests:
    def test_it_lets_every_service_with_opplysningsplikt_report(self):
        assert ServiceKindSetting.reporting_kinds() == OPPLYSNINGSPLIKT

    def test_it_keeps_barnevern_slt_the_privacy_function_and_other_from_reporting(self):
        for kind in ("barnevern", "slt", "personvern", "other"):
            assert ServiceKindSetting.objects.get(kind=kind).may_report_concerns is False

    def test_it_has_a_row_for_every_kind_of_service(self):
        assert set(ServiceKindSetting.objects.values_list("kind", flat=True)) == set(Service.Kind.values)

    def test_it_starts_only_kindergartens_and_schools_on_their_concerns(self):
        assert ServiceKindSetting.concern_start_kinds() == {"barnehage", "skole"}

    def test_it_follows_the_row_not_a_list_in_code(self, org):
        assert org.slt.can_report_concerns is False
        ServiceKindSetting.objects.filter(kind=Service.Kind.SLT).update(may_report_concerns=True)
        assert org.slt.can_report_concerns is True
        ServiceKindSetting.objects.filter(kind=Service.Kind.BARNEHAGE).update(may_report_concerns=False)
        assert org.barnehage.can_report_concerns is False

    def test_it_lets_no_kind_without_a_row_report(self, org):
        ServiceKindSetting.objects.filter(kind=Service.Kind.BARNEHAGE).delete()
        assert org.barnehage.can_report_concerns is False


class SettingAdminTests:
    def test_it_lets_a_technical_administrator_let_a_kind_report(self, admin_client, org, client):
        setting = ServiceKindSetting.objects.get(kind=Service.Kind.SLT)
        url = reverse("admin:org_servicekindsetting_change", args=[setting.pk])
        assert admin_client.get(url).status_code == 200
        response = admin_client.post(url, {
            "may_report_concerns": "on", "concern_legal_basis": "barnevernsloven § 13-2", "starts_on_concerns": "",
        })
        assert response.status_code == 302
        setting.refresh_from_db()
        assert setting.may_report_concerns is True
        # The SLT coordinator may now open the concern form.
        client.force_login(org.slt_staff)
        assert client.get(reverse("concerns:create")).status_code == 200

    def test_it_keeps_the_kind_of_a_row(self, admin_client):
        setting = ServiceKindSetting.objects.get(kind=Service.Kind.SLT)
        admin_client.post(reverse("admin:org_servicekindsetting_change", args=[setting.pk]), {
            "kind": "barnehage", "may_report_concerns": "", "concern_legal_basis": "x", "starts_on_concerns": "",
        })
        setting.refresh_from_db()
        assert setting.kind == Service.Kind.SLT

    def test_it_refuses_the_setting_to_a_reporter(self, client, org):
        client.force_login(org.reporter)
        response = client.get(reverse("admin:org_servicekindsetting_changelist"), follow=True)
        assert response.status_code == 404


class EmergencyPhoneAdminTests:
    def test_it_lets_a_technical_administrator_set_the_barnevernvakt_number(self, admin_client, org):
        url = reverse("admin:org_municipality_change", args=[org.municipality.pk])
        response = admin_client.post(url, {"name": org.municipality.name, "number": org.municipality.number, "emergency_phone": "22 33 44 55"})
        assert response.status_code == 302
        assert Municipality.objects.get(pk=org.municipality.pk).emergency_phone == "22 33 44 55"
