"""The admin in bokmål where Django and its packages leave English (issue 7): permissions, content
types, the authenticator apps django-otp names only in English, and django-axes.

Personas: a technical administrator (staff superuser, demo mode: no second factor in the test
settings) and the user whose phone was lost.
"""
import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.admin_labels import content_type_label, permission_label
from org.models import Service
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(make_user("drift", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def device():
    return TOTPDevice.objects.create(user=make_user("mistet-telefon"), name="Telefon", key="3132333435363738393031323334353637383930")


def permission(app_label, codename):
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


class PermissionLabelTests:
    def test_it_names_viewflows_manage_permission_of_a_process_in_bokmal(self):
        # viewflow adds "manage" to a process model's default permissions when the flow class is
        # built; post_migrate then stores it with an English name (seen after a flush in the suite).
        from workflows.models import ReferralProcess

        manage, _created = Permission.objects.get_or_create(
            content_type=ContentType.objects.get_for_model(ReferralProcess), codename="manage_referralprocess",
            defaults={"name": "Can manage referral process"},
        )
        with translation.override("nb"):
            assert permission_label(manage).endswith("| henvisningsprosess | Kan administrere henvisningsprosess")

    def test_it_names_a_default_permission_from_the_models_translated_name(self):
        with translation.override("nb"):
            assert permission_label(permission("org", "add_service")) == "Organisasjon | tjeneste | Kan legge til tjeneste"
        with translation.override("en"):
            assert permission_label(permission("org", "add_service")) == "Organisation | service | Can add service"

    def test_it_names_our_own_permissions_through_the_catalogue(self):
        with translation.override("nb"):
            assert permission_label(permission("org", "handle_concerns")).endswith("| Kan behandle oppgaver med bekymringer til tjenesten")

    def test_it_names_the_vendors_models_through_the_catalogue(self):
        with translation.override("nb"):
            assert content_type_label(ContentType.objects.get_for_model(TOTPDevice)) == "Autentiseringsapper (django-otp) | autentiseringsapp (TOTP)"
            assert content_type_label(ContentType.objects.get_for_model(Service)) == "Organisasjon | tjeneste"


class AdminInBokmalTests:
    def test_it_lists_the_permissions_of_a_group_in_bokmal(self, admin_client):
        group = Group.objects.create(name="service:test")
        page = admin_client.get(f"/admin/auth/group/{group.pk}/change/").content.decode()
        assert "Kan legge til tjeneste" in page
        assert "Can add service" not in page

    def test_it_names_axes_in_bokmal(self, admin_client):
        page = admin_client.get("/admin/").content.decode()
        assert "Innloggingssperre" in page
        assert "Innloggingsforsøk" in page


class AuthenticatorAppAdminTests:
    def test_it_shows_a_users_app_without_its_secret_key(self, admin_client, device):
        page = admin_client.get(f"/admin/accounts/authenticatordevice/{device.pk}/change/").content.decode()
        assert "Autentiseringsapp" in page and "mistet-telefon" in page
        assert device.key not in page

    def test_it_deletes_a_lost_phones_app_so_the_user_enrols_again(self, admin_client, device):
        response = admin_client.post(f"/admin/accounts/authenticatordevice/{device.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        assert not TOTPDevice.objects.filter(pk=device.pk).exists()

    def test_it_adds_and_edits_no_app(self, admin_client, device):
        # Refused as the site refuses everything (config.urls.permission_denied: a 404).
        assert admin_client.get("/admin/accounts/authenticatordevice/add/").status_code == 404
        response = admin_client.post(f"/admin/accounts/authenticatordevice/{device.pk}/change/", {"name": "Ny", "key": "00" * 20})
        assert response.status_code == 404
        device.refresh_from_db()
        assert device.name == "Telefon"

    def test_it_leaves_django_otps_own_english_admin_out(self, admin_client, device):
        assert admin_client.get("/admin/otp_totp/totpdevice/").status_code == 404
