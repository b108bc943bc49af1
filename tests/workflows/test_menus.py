"""Each user sees only the menu entries their services can use (issue 7, point 4), on every app's page."""
import re

from django.test import TestCase
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


class DemoUsersMenuTests(TestCase):
    """As every demo user: the one menu (the same on every page) holds only links that answer 200,
    shows each user the sections of their own work, and the task lists offer no empty "+" dialog."""

    @classmethod
    def setUpTestData(cls):
        from workflows.demo import seed_demo

        cls.users = seed_demo()["users"]

    def menu(self, username, page="notifications:index") -> list[str]:
        self.client.force_login(self.users[username])
        response = self.client.get(reverse(page))
        self.assertEqual(response.status_code, 200)
        drawer = response.content.decode().split('id="sh-drawer"', 1)[1].split("</aside>", 1)[0]
        return re.findall(r'<a class="sh-menu__link" href="([^"]+)"', drawer)

    def test_it_links_only_pages_that_answer_200_for_every_demo_user(self):
        for username in self.users:
            with self.subTest(username):
                links = self.menu(username)
                self.assertTrue(links)
                for url in links:
                    if url.startswith("/admin/"):
                        continue
                    self.assertEqual(self.client.get(url).status_code, 200, f"{username}: {url}")

    def test_it_shows_the_same_menu_on_every_page(self):
        for page in ("concerns:index", "referrals:incoming", "consent:age_rules", "workflow:inbox", "break_glass:index"):
            with self.subTest(page):
                self.assertEqual(self.menu("barnehage", page), self.menu("barnehage"))

    def test_it_shows_each_user_their_own_sections(self):
        concerns = {reverse("concerns:index"), reverse("concerns:create")}
        referrals = {reverse("referrals:incoming"), reverse("referrals:contact_create")}
        barnehage, barnevern, slt = set(self.menu("barnehage")), set(self.menu("barnevern")), set(self.menu("slt"))
        self.assertTrue(concerns | referrals <= barnehage)
        self.assertNotIn(reverse("concerns:intake"), barnehage)
        self.assertIn(reverse("concerns:intake"), barnevern)
        self.assertFalse(concerns & barnevern)
        self.assertFalse((concerns | {reverse("concerns:intake")}) & slt)
        self.assertNotIn(reverse("referrals:coordinator"), barnehage)
        self.assertIn(reverse("referrals:coordinator"), self.menu("ruskoordinator"))
        personvern = set(self.menu("personvern"))
        self.assertIn(reverse("consent:access_requests"), personvern)
        self.assertFalse((referrals | {reverse("workflow:inbox")}) & personvern)
        self.assertIn(reverse("workflow:inbox"), barnehage)
        self.assertNotIn(reverse("consent:access_requests"), barnehage)
        self.assertIn(reverse("consent:approvals"), self.menu("barnehage-styrer"))
        self.assertNotIn(reverse("consent:approvals"), barnehage)
        admin = set(self.menu("admin"))
        self.assertIn(reverse("admin:index"), admin)
        self.assertFalse({reverse("workflow:inbox")} & admin)
        self.assertNotIn(reverse("admin:index"), barnehage)

    def test_it_offers_no_new_process_dialog_on_the_task_lists(self):
        self.client.force_login(self.users["barnevern"])
        for name in ("workflow:inbox", "workflow:queue", "workflow:archive"):
            with self.subTest(name):
                html = self.client.get(reverse(name)).content.decode()
                self.assertNotIn("vf-dialog__trigger", html)
                self.assertNotIn("mdc-fab", html)
