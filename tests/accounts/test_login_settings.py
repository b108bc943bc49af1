"""The login settings as production reads them from the environment (config/settings.py, "Login")."""
import pytest

from tests.accounts.support import production_setting

DISCOVERY = {"OIDC_RP_CLIENT_ID": "samhandling", "OIDC_RP_CLIENT_SECRET": "s", "OIDC_OP_DISCOVERY": "https://idporten.no"}


class LoginSettingsTests:
    def test_it_keeps_axes_first_and_guardian_in_the_backends(self):
        backends = production_setting("AUTHENTICATION_BACKENDS")
        assert backends.startswith("['axes.backends.AxesStandaloneBackend'")
        assert "guardian.backends.ObjectPermissionBackend" in backends
        assert "accounts.oidc.OIDCBackend" not in backends

    def test_it_switches_oidc_on_when_a_provider_is_configured(self):
        assert production_setting("OIDC_ENABLED", **DISCOVERY) == "True"
        assert "accounts.oidc.OIDCBackend" in production_setting("AUTHENTICATION_BACKENDS", **DISCOVERY)

    def test_it_refuses_to_start_with_a_client_but_no_provider(self):
        with pytest.raises(RuntimeError, match="OIDC_OP_DISCOVERY"):
            production_setting("OIDC_ENABLED", OIDC_RP_CLIENT_ID="samhandling")

    def test_it_refuses_to_start_with_a_malformed_admin_network(self):
        with pytest.raises(RuntimeError, match="ADMIN_ALLOWED_NETWORKS"):
            production_setting("ADMIN_ALLOWED_NETWORKS", ADMIN_ALLOWED_NETWORKS="10.0.0.0/8,not-a-network")

    def test_it_reads_the_admin_networks(self):
        assert production_setting("ADMIN_ALLOWED_NETWORKS", ADMIN_ALLOWED_NETWORKS="10.0.0.0/8, 192.168.1.0/24") == "['10.0.0.0/8', '192.168.1.0/24']"

    def test_it_locks_by_user_name_and_address_after_five_failures(self):
        assert production_setting("AXES_LOCKOUT_PARAMETERS") == "[['username', 'ip_address']]"
        assert production_setting("AXES_FAILURE_LIMIT") == "5"
