"""Every page every demo user can reach is in bokmål (issue 7, point 1).

The demo is seeded once; each demo user then walks the site from the front page, following the
links of their menu and pages (lists lead to detail, task, consent and report pages; one task per
kind is taken from the queue to reach its task page), and is also
sent to pages only other users may open (the refusal pages). The technical administrator's walk
goes on into Django's admin: the index, every list, add form and history page it links to and one
object's change form (and delete confirmation) per model. Each page's visible text and labelling
attributes are searched for the project's own English: every msgid of locale/nb/LC_MESSAGES/django.po
whose bokmål translation differs from it. A catalogued English string on a bokmål page means a
string that was never marked, a translation that went missing, or stored English shown as is.

The matching rule (to find English without tripping over Norwegian or names), plus the whole words
of ``HARDCODED`` (English that is in no catalogue) and any chunk with an English function word
(``FUNCTION_WORDS``: "the", "and", "you", …, which bokmål never uses; a sentence never marked):
* a whole text chunk (a text node or a label attribute, whitespace collapsed, a trailing colon
  dropped) equal to an English msgid, or to a literal piece of one between placeholders, of any
  length; compared without case;
* an English piece of at least three words, or of two words and 16 characters, found anywhere in a
  chunk, at word boundaries, without case;
* a piece that is also a bokmål msgstr (or a piece of one) never counts, nor the few names in
  ``ALLOWED``: the same spelling is then Norwegian too (“Status”, “Person”).
"""
import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.test import TestCase
from django.urls import Resolver404, resolve
from django.utils import translation

from tests.test_i18n import ENGLISH_LEAKS, VIEWFLOW_HARDCODED, _VisibleText, leaks, parse_po
from workflows.demo import seed_demo

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "nb" / "LC_MESSAGES" / "django.po"

# English no catalogue holds (text viewflow hard-codes in its templates and scripts), searched as
# whole words, with case, in addition to the catalogue's English. Left out, as too likely in the
# pages' Norwegian data: "of", "GO", and "Brief" (the catalogue's whole-chunk rule still finds it
# as a label; the demo catalogue offers «Brief intervention»).
HARDCODED = sorted({*ENGLISH_LEAKS, *VIEWFLOW_HARDCODED, "Permission", "Unassigned", "have no rights", "Access Forbidden",
                    "selected", "Concern", "Referral"} - {"of", "GO", "Brief"})

# English sentences no catalogue holds (a string never marked for translation) give themselves away
# by their function words, which bokmål does not use.
FUNCTION_WORDS = re.compile(
    r"(?<![\w-])(the|and|you|your|has been|have been|with|which|will|should|please|this|there|their|could|would)(?![\w-])", re.I
)

# Shown in English on purpose: the language switch names each language in its own language.
ALLOWED = {"english"}
# Not language, though some look like English words, so a chunk that is exactly one of them is not
# searched: the demo users' names (the admin greets "admin" by name; access logs list who read),
# and in the admin the codes of the processes and steps the deadline policies apply to (data the
# technical administrator types and the processes match; "concern", "review") and viewflow's
# reference to a task, made of the flow's and the node's names in the code
# ("<concern/concern.Route By Kind/25> - DONE", as viewflow's admin prints a task; a breadcrumb puts
# "› " before it).
def data_codes() -> set[str]:
    from workflows.models import DeadlinePolicy

    return {code for pair in DeadlinePolicy.objects.values_list("process", "step") for code in pair}


VIEWFLOW_TASK_REFERENCE = re.compile(r"(› )?<\w+/\w+\.[A-Za-z ]+/\d+> - [A-Z]+")


PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\{.*?\}\}|\{%.*?%\}|\{\w*\}|<[^>]+>", re.S)
MAX_PER_ROUTE = 2  # pages of one URL pattern walked per user: enough for each state a list links to
MAX_PER_ADMIN_ROUTE = 1  # in the admin: one change form (history, delete confirmation) per model
MAX_PAGES = 120  # per user, outside the admin
MAX_ADMIN_PAGES = 150  # the admin's pages, beside them (about 100 for the demo's administrator)
MAX_REFUSALS = 10  # pages of others' routes tried per user
ADMIN = "/admin/"
# Not walked: files, logging out, the admin's own script catalogue, and the admin's "view on site"
# redirects (they lead to the product's pages, walked anyway).
SKIP = re.compile(r"^/(static|media|i18n|jsi18n)/|^/admin/(jsi18n|r)/|/logout/|\.(pdf|csv|json|xml)$|/(pdf|fhir|eksport|export)/?$")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _pieces(text: str) -> list[str]:
    return [p for p in (_norm(piece).strip(" :,.;–-") for piece in PLACEHOLDER.split(text)) if re.search(r"[A-Za-z]{2}", p)]


def english_catalogue(path: Path = CATALOGUE) -> tuple[set[str], re.Pattern]:
    """(English chunks, casefolded; a pattern of English phrases) from the catalogue's entries whose
    bokmål differs from the English."""
    entries = [e for e in parse_po(path) if "fuzzy" not in e["flags"]]
    bokmal = {p.casefold() for e in entries for text in e["msgstr"].values() for p in [_norm(text).strip(" :,.;–-"), *_pieces(text)]}
    chunks, phrases = set(), set()
    for e in entries:
        for n, english in enumerate(filter(None, [e["msgid"], e["msgid_plural"]])):
            translated = e["msgstr"].get(n, e["msgstr"].get(0, ""))
            if not translated or _norm(translated) == _norm(english):
                continue
            for piece in _pieces(english):
                folded = piece.casefold()
                if folded in bokmal or folded in ALLOWED:
                    continue
                chunks.add(folded)
                words = piece.split()
                if len(words) >= 3 or (len(words) == 2 and len(piece) >= 16):
                    phrases.add(piece)
    alternation = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return chunks, re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])", re.I)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Page(_VisibleText):
    """Visible text and labels (as tests.test_i18n reads them), button values too, and the links.
    Text hidden from screen readers (aria-hidden) and icon ligatures (class material-icons, drawn as
    a glyph; whether they are hidden from screen readers is tested with the page shell) are not read."""

    def __init__(self):
        super().__init__()
        self.links, self._open = [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        hidden = attributes.get("aria-hidden") == "true" or "material-icons" in (attributes.get("class") or "").split()
        if tag not in VOID:
            self._open.append((tag, hidden))
            self._skip += hidden
        if hidden:
            return
        super().handle_starttag(tag, attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag == "input" and attributes.get("type") in ("submit", "button", "reset") and attributes.get("value"):
            self.chunks.append(attributes["value"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        super().handle_endtag(tag)
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:
                self._skip -= sum(hidden for _, hidden in self._open[depth:])
                del self._open[depth:]
                break


def english_in(texts: list[str], chunks: set[str], phrases: re.Pattern, data: frozenset[str] = frozenset(), codes: re.Pattern | None = None) -> list[str]:
    """The catalogue's English (and ``HARDCODED``) in a page's text chunks, by the module's rule.
    Also for the browser suite, with the chunks a page's script reads (one per text node or label).
    A chunk that is exactly one of ``data`` (a user name, a code: see ``data_codes``) is not searched,
    nor, with ``codes``, one that is wholly such a code."""
    texts = [raw for raw in texts if _norm(raw) not in data and not (codes and codes.fullmatch(_norm(raw)))]
    found = []
    for raw in texts:
        chunk = _norm(raw)
        if chunk.strip(" :,.;–-").casefold() in chunks:
            found.append(chunk)
        else:
            found += [m.group(0) for m in phrases.finditer(chunk)]
    found += leaks("\n".join(_norm(raw) for raw in texts), HARDCODED)
    found += [_norm(raw) for raw in texts if FUNCTION_WORDS.search(_norm(raw))]
    return sorted(set(found))


def english_on(html: str, chunks: set[str], phrases: re.Pattern, data: frozenset[str] = frozenset(), codes: re.Pattern | None = None) -> tuple[list[str], list[str]]:
    """(English found, the page's links)."""
    page = _Page()
    page.feed(html)
    return english_in(page.chunks, chunks, phrases, data, codes), page.links


def _route(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return f"{match.namespace}|{match.url_name}|{match.route}"


class EveryPageInBokmalTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.seeded = seed_demo()
        cls.chunks, cls.phrases = english_catalogue()
        cls.codes = frozenset(data_codes())

    def walk(self, user) -> tuple[dict[str, list[str]], dict[str, str]]:
        """The English on every page the user reaches by links from the front page; and the routes
        walked ({route: one path})."""
        self.client.force_login(user)
        names = frozenset(self.seeded["users"])
        queue, seen, per_route, routes, english = ["/"], set(), defaultdict(int), {}, {}
        pages = {False: 0, True: 0}  # walked outside and inside the admin
        while queue:
            path = queue.pop(0)
            route = _route(path)
            in_admin = path.startswith(ADMIN)
            limit = MAX_PER_ADMIN_ROUTE if in_admin else MAX_PER_ROUTE
            if path in seen or route is None or per_route[route] >= limit:
                continue
            if pages[in_admin] >= (MAX_ADMIN_PAGES if in_admin else MAX_PAGES):
                continue
            pages[in_admin] += 1
            seen.add(path)
            per_route[route] += 1
            routes.setdefault(route, path)
            response = self.client.get(path)
            if response.status_code in (301, 302):
                target = urlsplit(urljoin(path, response["Location"])).path
                if not SKIP.search(target):
                    queue.append(target)
                continue
            if not response["Content-Type"].startswith("text/html"):
                continue
            self.assertEqual(response["Content-Language"], "nb", path)
            if in_admin:
                found, links = english_on(response.content.decode(), self.chunks, self.phrases, names | self.codes, VIEWFLOW_TASK_REFERENCE)
            else:
                found, links = english_on(response.content.decode(), self.chunks, self.phrases, names)
            if found:
                english[path] = found
            if route.split("|")[1] == "assign" and per_route[route] == 1:
                # Take one task from the queue (as the user would), to reach its task page.
                taken = self.client.post(path)
                if taken.status_code == 302:
                    links = [*links, taken["Location"]]
            for href in links:
                parts = urlsplit(urljoin(path, href))
                if parts.netloc or parts.scheme not in ("", "http") or not parts.path.startswith("/") or SKIP.search(parts.path):
                    continue
                if parts.path not in seen:
                    queue.append(parts.path)
        return english, routes

    def test_every_demo_user_sees_only_bokmal(self):
        english, walked = {}, {}
        for username, user in self.seeded["users"].items():
            found, walked[username] = self.walk(user)
            if found:
                english[username] = found
            self.client.logout()
        # The walk reached the pages the issue names, not only the front page.
        routes = {route.split("|")[1] for user_routes in walked.values() for route in user_routes}
        for expected in ("index", "detail", "intake", "inbox", "queue", "report", "assign", "execute", "process_detail"):
            self.assertIn(expected, routes)
        # And the admin: every registered model's list, and a change form of every model with rows.
        admin_routes = {route.split("|")[1] for route in walked["admin"] if route.startswith("admin|")}
        for model in filter(admin.site.is_registered, apps.get_models()):
            name = f"{model._meta.app_label}_{model._meta.model_name}"
            self.assertIn(f"{name}_changelist", admin_routes)
            if model._default_manager.exists():
                self.assertIn(f"{name}_change", admin_routes)

        # The pages only others may open: each user is refused (the uniform "not found" page), in
        # bokmål. Not the admin's (a user without staff status is sent to the login page there, and
        # refused: tests/accounts/test_admin_access.py).
        everyone = {route: path for user_routes in walked.values() for route, path in user_routes.items() if not path.startswith(ADMIN)}
        refused = 0
        for username, user in self.seeded["users"].items():
            self.client.force_login(user)
            others = sorted(set(everyone) - set(walked[username]))[:MAX_REFUSALS]
            for route in others:
                response = self.client.get(everyone[route])
                if response.status_code in (403, 404):
                    refused += 1
                    found, _ = english_on(response.content.decode(), self.chunks, self.phrases)
                    if found:
                        english.setdefault(username, {})[everyone[route]] = found
            self.client.logout()
        self.assertGreater(refused, 50)

        # And before logging in: the login page, and a page that sends there.
        for path in ("/accounts/login/", "/concerns/"):
            response = self.client.get(path, follow=True)
            self.assertEqual(response.status_code, 200, path)
            found, _ = english_on(response.content.decode(), self.chunks, self.phrases)
            if found:
                english.setdefault("(anonymous)", {})[path] = found
        report = "\n".join(f"{user} {path}: {found}" for user, pages in english.items() for path, found in pages.items())
        self.assertEqual(english, {}, "English on bokmål pages:\n" + report)

    def test_the_transparency_report_names_every_purpose_in_the_users_language(self):
        # "referral completed" is stored as an English key, a disclosure's "henvisning" as a Norwegian
        # word (older rows); the report (page and PDF read the same rows) shows each translated.
        from audit.models import AccessLog
        from consent.models import Disclosure
        from consent.reports import transparency_report

        disclosure = Disclosure.objects.filter(purpose="henvisning").select_related("person").first()
        completed = AccessLog.objects.filter(purpose="referral completed").exclude(person=None).first()
        self.assertIsNotNone(disclosure)
        self.assertIsNotNone(completed)
        expected = {"nb": ("henvisning", "henvisning fullført"), "en": ("referral", "referral completed")}
        for language, (disclosed, closed) in expected.items():
            with translation.override(language):
                labels = {d.purpose_label for d in transparency_report(disclosure.person).disclosures if d.purpose == "henvisning"}
                self.assertEqual(labels, {disclosed}, language)
                entries = transparency_report(completed.person).access_entries
                self.assertIn(closed, {e.purpose_label for e in entries if e.purpose == "referral completed"}, language)

    def test_the_transparency_report_pdf_names_the_purposes_in_the_users_language(self):
        from unittest import mock

        from audit.models import AccessLog
        from consent import pdf as layout
        from consent import reports
        from tests.consent.test_transparency_report import pdf_lines

        # A person with both: a disclosure stored as "henvisning" and a closed referral's log row.
        people_with_completed = set(AccessLog.objects.filter(purpose="referral completed").values_list("person", flat=True))
        disclosure = next(d for d in reports.Disclosure.objects.filter(purpose="henvisning") if d.person_id in people_with_completed)
        with mock.patch.object(layout, "FONT_DIR", "/nonexistent"):  # the standard font: readable text
            for language, shown, hidden in (("nb", "henvisning fullført", "referral completed"), ("en", "referral completed", "henvisning")):
                with translation.override(language):
                    pdf = reports.transparency_report_pdf(reports.transparency_report(disclosure.person), compress=False)
                text = " ".join(pdf_lines(pdf))
                self.assertIn(shown, text, language)
                self.assertNotIn(hidden, text, language)
