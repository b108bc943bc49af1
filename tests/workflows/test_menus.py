"""Each user sees only the menu entries their services can use (issue 7, point 4), on every app's page."""
from django.urls import reverse



def menu_links(client, user, url) -> set[str]:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    # (The concern list itself is also the site's section link, shown to all; these two are not.)
    return {reverse(name) for name in ("concerns:create", "concerns:intake") if f'href="{reverse(name)}"' in response.content.decode()}


class NotificationsMenuTests:
    def test_it_offers_new_concern_and_intake_only_to_the_services_that_use_them(self, client, org):
        page = reverse("notifications:index")

        # NAV has opplysningsplikt (barnevernloven § 13-2) and reports; SLT does not (org.ServiceKindSetting).
        assert menu_links(client, org.nav_staff, page) == {reverse("concerns:create")}
        assert menu_links(client, org.slt_staff, page) == set()
        assert menu_links(client, org.reporter, page) == {reverse("concerns:create")}
        assert menu_links(client, org.caseworker, page) == {reverse("concerns:intake")}
