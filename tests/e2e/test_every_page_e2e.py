"""Every demo user, every page their menu offers, in Chromium (issue 7, "Must show").

As each user of the demo (``manage.py seed_demo``): log in, collect the links of their menu, and on
every page they lead to check that
- no English of the project's UI shows on the bokmål page (tests/test_i18n_pages.py's rule: the
  catalogue's English, viewflow's hard-coded words, English function words),
- axe-core finds no serious or critical WCAG 2.1 A/AA violation (each page once),
- no icon's ligature word ("arrow_drop_down") is left for a screen reader to read out,
- the page does not scroll sideways on a 375 px phone (a wide table scrolls inside itself),
and that the keyboard alone reaches every menu item and logs out: with Tab at desktop width, and at
phone width after opening the drawer with Enter on the menu button. The technical administrator
also walks Django's admin, with the same checks but axe-core's (see check_page): its index, every
list and add form it links to, and the change form of each list's first object.

One browser, one demo seeding, and every problem collected before failing, so one run lists them all.
"""
import pytest
from django.urls import reverse

from tests.e2e.conftest import _axe_scan, format_violations
from tests.test_i18n_pages import VIEWFLOW_TASK_REFERENCE, data_codes, english_catalogue, english_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
DEMO_PASSWORD = "demo"  # workflows.demo.DEMO_PASSWORD
DJANGO_ADMIN = "/admin/"

# The text a user sees or hears, one chunk per text node or label (as tests/test_i18n_pages.py
# reads a page): not what is hidden from screen readers, nor icons' ligature words (checked apart).
TEXT_CHUNKS_JS = """() => {
  const skip = '[aria-hidden="true"], .material-icons, script, style, noscript, template';
  const chunks = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.textContent.trim() && !node.parentElement.closest(skip)) chunks.push(node.textContent);
  }
  document.querySelectorAll('[aria-label], [title], [alt], [placeholder], [label], input[type=submit][value], input[type=button][value]').forEach(el => {
    if (el.closest(skip)) return;
    for (const name of ['aria-label', 'title', 'alt', 'placeholder', 'label']) { const v = el.getAttribute(name); if (v) chunks.push(v); }
    if (el.matches('input[type=submit], input[type=button]')) chunks.push(el.value);
  });
  return chunks;
}"""
# Icon ligature words a screen reader would read out ("arrow_drop_down", "exit_to_app").
ICON_WORDS_JS = """() => [...document.querySelectorAll('.material-icons, .mdc-fab__icon')]
  .filter(el => !el.closest('[aria-hidden="true"]')).map(el => el.textContent.trim())"""
OVERFLOW_JS = "() => [document.documentElement.scrollWidth, window.innerWidth]"
MENU_LINKS_JS = "() => [...document.querySelectorAll('#sh-drawer .sh-menu a.sh-menu__link')].map(a => a.getAttribute('href'))"
# The admin index's links to each model's list and add form; a list's first object's change form.
ADMIN_INDEX_LINKS_JS = "() => [...document.querySelectorAll('#content-main tr[class^=model-] a[href]')].map(a => a.getAttribute('href'))"
ADMIN_FIRST_OBJECT_JS = """() => { const a = document.querySelector('#result_list tbody tr a[href*="/change/"]');
  return a && a.getAttribute('href'); }"""
FOCUSED_JS = """() => { const el = document.activeElement; if (!el) return null;
  return (el.matches('#sh-drawer .sh-menu a') && el.getAttribute('href')) || el.getAttribute('data-testid') || el.tagName; }"""


@pytest.fixture
def demo(transactional_db):
    from workflows.demo import seed_demo

    return seed_demo()


def login_as(page, username):
    page.goto(reverse("login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-form").get_by_role("button").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def tab_until(page, wanted, *, limit=80) -> set:
    """Press Tab until every focus target in ``wanted`` was reached (or ``limit`` presses); returns
    what was reached."""
    reached = set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        reached.add(page.evaluate(FOCUSED_JS))
        if wanted <= reached:
            break
    return reached & wanted


def check_page(page, url, problems, scanned, catalogue, names, admin=False):
    response = page.goto(url, wait_until="domcontentloaded")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    label = f"{url}"
    if response is None or response.status != 200:
        problems.append(f"{label}: answered {response.status if response else 'nothing'}")
        return
    # User names show in the user menu and in access logs: data, not UI text ("admin" is also a
    # msgid). In the admin, so do codes that look like English words (test_i18n_pages.data_codes).
    chunks = [chunk for chunk in page.evaluate(TEXT_CHUNKS_JS) if chunk.strip() not in names]
    if admin:
        english = english_in(chunks, *catalogue, frozenset(data_codes()), VIEWFLOW_TASK_REFERENCE)
    else:
        english = english_in(chunks, *catalogue)
    if english:
        problems.append(f"{label}: English on the bokmål page: {english}")
    icon_words = page.evaluate(ICON_WORDS_JS)
    if icon_words:
        problems.append(f"{label}: icon words read aloud: {icon_words}")
    width, viewport = page.evaluate(OVERFLOW_JS)
    if width > viewport:
        problems.append(f"{label}: {width} px wide in a {viewport} px phone viewport")
    path = url.split("?")[0]
    # Not in the admin: Django's own admin templates fail axe-core rules we cannot change without
    # rewriting them (breadcrumb links told apart by colour only, unlabelled date and time halves).
    if path not in scanned and not admin:
        scanned.add(path)
        violations = _axe_scan(page)
        if violations:
            problems.append(f"{label}: axe-core\n{format_violations(violations)}")


def check_admin(page, problems, scanned, catalogue, names) -> int:
    """Check the admin's index, the list and add form of every model it links to, and each list's
    first object's change form; returns the number of pages checked."""
    check_page(page, DJANGO_ADMIN, problems, scanned, catalogue, names, admin=True)
    links = list(dict.fromkeys(page.evaluate(ADMIN_INDEX_LINKS_JS)))
    checked = 1
    for url in links:
        check_page(page, url, problems, scanned, catalogue, names, admin=True)
        checked += 1
        first = page.evaluate(ADMIN_FIRST_OBJECT_JS) if url.endswith("/") and not url.endswith("/add/") else None
        if first:
            check_page(page, first, problems, scanned, catalogue, names, admin=True)
            checked += 1
    return checked


def check_keyboard(page, links, shell_links, problems):
    """At desktop width Tab walks through every menu item; at phone width Enter on the menu button
    opens the drawer, Tab reaches every item and Enter follows one; the user menu's button and Log out
    are reached with Tab and work with Enter. Ends logged out. The walks start on pages of the
    product (``shell_links``), not in Django's admin, which has no such menu."""
    page.set_viewport_size(DESKTOP)
    page.goto(shell_links[-1])
    missing = set(links) - tab_until(page, set(links))
    if missing:
        problems.append(f"(desktop): Tab never reaches {sorted(missing)}")

    page.set_viewport_size(PHONE)
    page.goto(shell_links[0])
    if not tab_until(page, {"menu-button"}):
        problems.append("(phone): Tab never reaches the menu button")
    else:
        page.keyboard.press("Enter")
        page.locator("#sh-drawer.mdc-drawer--open").wait_for()
        missing = set(links) - tab_until(page, set(links))
        if missing:
            problems.append(f"(phone): Tab never reaches {sorted(missing)} in the open drawer")
        target = shell_links[-1]
        if tab_until(page, {target}):
            page.keyboard.press("Enter")
            page.wait_for_url(lambda url: url.endswith(target))
        else:
            problems.append(f"(phone): cannot reach {target} to follow it")

    page.set_viewport_size(DESKTOP)
    page.goto(shell_links[0])
    if not tab_until(page, {"user-menu-toggle"}):
        problems.append("Tab never reaches the user menu")
        return
    page.keyboard.press("Enter")
    if not tab_until(page, {"logout"}, limit=5):
        problems.append("Tab never reaches Log out after opening the user menu")
        return
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" in url or "/accounts/logout/" in url)
    page.goto(reverse("notifications:index"))
    if "/accounts/login/" not in page.url:
        problems.append("still logged in after logging out by keyboard")


class EveryPageTests:
    def test_every_demo_user_gets_every_menu_page_in_bokmal_accessible_phone_sized_and_by_keyboard(self, browser, live_server, demo):
        problems, scanned, admin_pages = [], set(), 0
        catalogue = english_catalogue()
        users = sorted(demo["users"])
        names = frozenset(users)
        assert {"barnehage", "skole", "barnevern", "barnevern-leder", "helsesykepleier", "ruskoordinator", "slt",
                "personvern", "admin", "barnehage-styrer"} <= set(users)
        # One context for all: the shell's scripts and styles load once; each user logs out at the end.
        context = browser.new_context(base_url=live_server.url, locale="nb-NO", viewport=PHONE)
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            for username in users:
                mine = []
                context.clear_cookies()
                page.set_viewport_size(PHONE)
                login_as(page, username)
                landing = page.url[len(live_server.url):]
                if landing.startswith(DJANGO_ADMIN):
                    # A technical administrator may start in Django's admin, outside the shell.
                    page.goto(reverse("notifications:index"))
                links = page.evaluate(MENU_LINKS_JS)
                if not links:
                    mine.append(f"no menu on the landing page {landing}")
                for url in dict.fromkeys([landing, *links]):
                    if not url.startswith(DJANGO_ADMIN):  # the admin's pages: check_admin, below
                        check_page(page, url, mine, scanned, catalogue, names)
                if demo["users"][username].is_staff:
                    admin_pages += check_admin(page, mine, scanned, catalogue, names)
                shell_links = [link for link in links if not link.startswith(DJANGO_ADMIN)]
                if shell_links:
                    check_keyboard(page, links, shell_links, mine)
                problems += [f"{username}: {p}" for p in mine]
        finally:
            context.close()
        assert not problems, "\n".join(problems)
        assert admin_pages > 40  # the admin's index, lists, add and change forms were walked
