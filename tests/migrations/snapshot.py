"""What a database holds and what each user sees in it, as JSON: the two sides of the migrate-forward test.

Run as a script with the code under test as the working directory, against the database in
DATABASE_URL (settings config.settings in demo mode, DJANGO_DEMO=1: no second factor)::

    python /path/to/tests/migrations/snapshot.py --now 2026-12-01T16:40:00+00:00 --out snapshot.json

It must work with the code before AND after the move of the shared kernel out of ``referrals`` (into
``org`` and ``people``), so it imports no project module: tables are read with SQL, pages through
Django's test client by their URL paths (which the move does not change).

In this order, because page views write rows (sessions, access-log rows, last_login):

1. ``counts``: the row count of every table in the public schema, before anything else.
2. ``permission_strings``: the stored permission strings (viewflow task owner permission, reminder
   required permission, ledger permission) and how often each occurs; ``content_types`` (id →
   app_label.model); ``access_log``: its object types and the id and hash of its head row.
3. ``objects``: the codes (or process ids) of every concern, referral, contact, consent, person,
   access request and viewflow process.
4. ``users``: for every active user with a usable password or a membership, logged in with
   ``Client.force_login``, at the instant ``--now`` (time-machine, so "overdue" and "expired" read as
   when the fixture was made): first, for every user, each list page's status and the sorted set of
   its links (href and form action) that name an object (a UUID or a numeric path segment),
   following its pagination (``lists``), and the objects those links point to (``visible``); then
   the detail page of each of those objects, and of the objects the pages answered 200 link to
   (``details``: {kind: {status: [keys]}}, and ``detail_links``). The users in MATRIX_USERS try the
   detail page of every object of the fixture instead (trying all users would take minutes).
5. ``outsider``: a new active user without a membership, made only now (after the counts): the
   status of every object's detail page and of every list page.
"""
import argparse
import html
import json
import logging
import os
import re
import sys
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
LINK = re.compile(r"""(?:href|action)\s*=\s*["']([^"']*)["']""", re.I)
NAMES_OBJECT = re.compile(rf"{UUID}|/\d+(?:/|$)", re.I)
PAGINATION_PARAMS = ("etter", "page")
# A notification's "open" button (a form posting to it) marks it read and redirects to its case: the
# case is what the notification links to. Code that has no such button never matches.
OPENS_NOTIFICATION = re.compile(r"^/notifications/\d+/apne/$")
MAX_PAGES = 30

# Every list page of the product (the menu's links and their "show all" variants).
LIST_PAGES = [
    "/concerns/",
    "/concerns/mottak/",
    "/concerns/mottak/?vis=alle",
    "/referrals/",
    "/referrals/innkommende/",
    "/referrals/innkommende/?vis=alle",
    "/referrals/koordinator/",
    "/referrals/koordinator/liste/",
    "/referrals/kontakter/",
    "/consent/",
    "/consent/fornying/",
    "/consent/fornying/?vis=alle",
    "/consent/godkjenning/",
    "/consent/innsynskrav/",
    "/consent/innsynskrav/?vis=besvart",
    "/consent/tilgangskontroll/",
    "/workflow/inbox/",
    "/workflow/queue/",
    "/workflow/archive/",
    "/notifications/",
    "/break_glass/",
]

# Detail pages: kind → (SQL giving the key, URL pattern). The first existing table wins (the person
# tables move from referrals to people).
OBJECTS = {
    "concern": (["referrals_concern"], "SELECT code::text FROM {t} ORDER BY code", "/concerns/{}/"),
    "referral": (["referrals_referral"], "SELECT code::text FROM {t} ORDER BY code", "/referrals/{}/"),
    "contact": (["referrals_contact"], "SELECT code::text FROM {t} ORDER BY code", "/referrals/kontakter/{}/"),
    "consent": (["consent_consent"], "SELECT code::text FROM {t} ORDER BY code", "/consent/{}/"),
    "person": (["people_person", "referrals_person"], "SELECT code::text FROM {t} ORDER BY code", "/consent/person/{}/"),
    "access_request": (["consent_accessrequest"], "SELECT code::text FROM {t} ORDER BY code", "/consent/innsynskrav/{}/"),
    "process": (
        ["viewflow_process"],
        # flow_class is stored as "workflows/flows/concern.ConcernFlow": the flow's URL segment.
        "SELECT id::text || ':' || lower(regexp_replace(flow_class, '^.*\\.(\\w+)Flow$', '\\1')) FROM {t} ORDER BY id",
        None,
    ),
}

# Stored permission strings ("app_label.codename"): table → column.
PERMISSION_COLUMNS = [
    ("viewflow_task", "owner_permission"),
    ("notifications_reminder", "required_perm"),
    ("consent_disclosure", "permission"),
]

OUTSIDER = "migrering-utenforstaende"

# Detail pages a link may point to (or into: /concerns/<code>/logg/ names the concern too).
DETAIL_PATTERNS = {
    "concern": re.compile(rf"^/concerns/({UUID})/", re.I),
    "referral": re.compile(rf"^/referrals/({UUID})/", re.I),
    "contact": re.compile(rf"^/referrals/kontakter/({UUID})/", re.I),
    "consent": re.compile(rf"^/consent/({UUID})/", re.I),
    "person": re.compile(rf"^/consent/person/({UUID})/", re.I),
    "access_request": re.compile(rf"^/consent/innsynskrav/({UUID})/", re.I),
    "process": re.compile(r"^/workflow/flows/(\w+)/(\d+)/"),
}
# Users whose detail pages are tried for every object of the fixture (the others: every object
# their lists link to). The superuser (who reads no case), the worker whose barnevern membership
# was ended, and a user whose emergency access to a concern has since expired.
MATRIX_USERS = ["admin", "vikar", "helsesykepleier"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--now", required=True, help="ISO instant the page views happen at (time-machine)")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--users", default="", help="comma-separated usernames (default: every active user)")
    parser.add_argument("--matrix-users", default=",".join(MATRIX_USERS),
                        help="users whose detail pages are tried for every object, not only those their lists link to")
    args = parser.parse_args(argv)

    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # testserver allowed, mail kept in memory
    logging.disable(logging.CRITICAL)  # 404s are expected by the hundred

    from django.db import connection

    with connection.cursor() as cursor:
        result = {"now": args.now}
        result["counts"] = table_counts(cursor)
        result["permission_strings"] = permission_strings(cursor)
        result["content_types"] = content_types(cursor)
        result["access_log"] = access_log(cursor)
        result["objects"] = objects(cursor)
        users = user_names(cursor)
    if args.users:
        users = [u for u in users if u in args.users.split(",")]
    matrix_users = set(filter(None, args.matrix_users.split(",")))

    import time_machine

    objs = result["objects"]
    with time_machine.travel(args.now, tick=False):
        # All list pages first, then the detail pages: the access log the lists read (the privacy
        # function's review) then holds the same rows whichever users are asked for.
        started = time.monotonic()
        result["users"] = {name: {"lists": user_lists(name)} for name in users}
        lists_done = time.monotonic()
        for name, view in result["users"].items():
            links = {link for entry in view["lists"].values() for link in entry.get("links", [])}
            view["visible"] = linked_objects(links, objs)
            view["details"], view["detail_links"] = user_details(name, objs if name in matrix_users else view["visible"])
        details_done = time.monotonic()
        result["outsider"] = outsider_view(objs)
    print(f"snapshot: lists {lists_done - started:.1f} s, details {details_done - lists_done:.1f} s, "
          f"outsider {time.monotonic() - details_done:.1f} s", file=sys.stderr)

    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
    )
    return [row[0] for row in cursor.fetchall()]


def table_counts(cursor) -> dict[str, int]:
    counts = {}
    for table in tables(cursor):
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def permission_strings(cursor) -> dict[str, dict[str, int]]:
    present = set(tables(cursor))
    found = {}
    for table, column in PERMISSION_COLUMNS:
        if table not in present:
            continue
        cursor.execute(f'SELECT "{column}", count(*) FROM "{table}" WHERE "{column}" IS NOT NULL AND "{column}" <> \'\' GROUP BY 1 ORDER BY 1')
        found[f"{table}.{column}"] = dict(cursor.fetchall())
    return found


def content_types(cursor) -> dict[str, str]:
    """{id: "app_label.model"}: the ids guardian's grants and the ledger point at."""
    cursor.execute("SELECT id, app_label || '.' || model FROM django_content_type ORDER BY id")
    return {str(pk): label for pk, label in cursor.fetchall()}


def access_log(cursor) -> dict:
    """The access log's object types (kept as written, whatever app a model moves to) and its head."""
    cursor.execute("SELECT object_type, count(*) FROM audit_accesslog GROUP BY 1 ORDER BY 1")
    types = dict(cursor.fetchall())
    cursor.execute("SELECT id, row_hash FROM audit_accesslog ORDER BY id DESC LIMIT 1")
    head = cursor.fetchone()
    return {"object_types": types, "head": list(head) if head else None}


def objects(cursor) -> dict[str, list[str]]:
    present = set(tables(cursor))
    found = {}
    for kind, (candidates, sql, _pattern) in OBJECTS.items():
        table = next((t for t in candidates if t in present), None)
        if table is None:
            raise SystemExit(f"none of the tables {candidates} exists")
        cursor.execute(sql.format(t=table))
        found[kind] = [row[0] for row in cursor.fetchall()]
    return found


def detail_url(kind: str, key: str) -> str:
    if kind == "process":
        pk, flow = key.split(":")
        return f"/workflow/flows/{flow}/{pk}/"
    return OBJECTS[kind][2].format(key)


def user_names(cursor) -> list[str]:
    """Active users who can log in: a usable password, or an active membership (org_ or referrals_)."""
    present = set(tables(cursor))
    membership = next(t for t in ("org_membership", "referrals_membership") if t in present)
    cursor.execute(
        f"""SELECT username FROM auth_user u WHERE is_active AND (
                password NOT LIKE '!%' OR EXISTS (SELECT 1 FROM "{membership}" m WHERE m.user_id = u.id AND m.active)
            ) ORDER BY username"""
    )
    return [row[0] for row in cursor.fetchall()]


def object_links(content: bytes) -> set[str]:
    links = set()
    for raw in LINK.findall(content.decode("utf-8", "replace")):
        href = html.unescape(raw).strip()
        if NAMES_OBJECT.search(href) and not href.startswith(("http://", "https://", "//")):
            links.add(href)
    return links


def pagination_links(page: str, content: bytes) -> list[str]:
    """Links to further pages of the same list (a cursor ``etter`` or viewflow's ``page``)."""
    path = urlsplit(page).path
    found = []
    for raw in LINK.findall(content.decode("utf-8", "replace")):
        href = html.unescape(raw).strip()
        parts = urlsplit(href)
        query = dict(parse_qsl(parts.query))
        if any(p in query for p in PAGINATION_PARAMS) and parts.path in ("", path):
            base = dict(parse_qsl(urlsplit(page).query))
            base.update(query)
            found.append(f"{path}?{urlencode(sorted(base.items()))}")
    return found


def list_page(client, page: str) -> dict:
    response = client.get(page)
    entry = {"status": response.status_code}
    if response.status_code in (301, 302):
        entry["location"] = response.headers.get("Location", "")
    if response.status_code != 200:
        return entry
    links = object_links(response.content)
    seen, todo = {page}, pagination_links(page, response.content)
    while todo and len(seen) < MAX_PAGES:
        nxt = todo.pop(0)
        if nxt in seen:
            continue
        seen.add(nxt)
        more = client.get(nxt)
        if more.status_code != 200:
            entry.setdefault("page_errors", []).append([nxt, more.status_code])
            continue
        links |= object_links(more.content)
        todo += pagination_links(page, more.content)
    entry["links"] = sorted(_through_openers(client, links))
    entry["pages"] = len(seen)
    return entry


def _through_openers(client, links: set[str]) -> set[str]:
    """``links`` with each notification opener replaced by the case page it redirects to."""
    resolved = set()
    for link in links:
        if OPENS_NOTIFICATION.match(link):
            response = client.post(link)
            target = urlsplit(response.headers.get("Location", "")).path
            if response.status_code == 302 and NAMES_OBJECT.search(target):
                resolved.add(target)
            # Otherwise it leads to a page that is no object (a review or request list): before the
            # button existed such a notification linked to no object either.
            continue
        resolved.add(link)
    return resolved


def _client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def linked_objects(links, objs: dict[str, list[str]]) -> dict[str, list[str]]:
    """The objects of the fixture whose detail page one of ``links`` points to (or into)."""
    known = {kind: set(keys) for kind, keys in objs.items()}
    found = {kind: set() for kind in objs}
    for link in links:
        path = urlsplit(link).path
        for kind, pattern in DETAIL_PATTERNS.items():
            match = pattern.match(path)
            if match:
                key = match.group(1) if kind != "process" else f"{match.group(2)}:{match.group(1)}"
                if key in known[kind]:
                    found[kind].add(key)
    return {kind: sorted(keys) for kind, keys in found.items()}


def user_lists(username: str) -> dict:
    from django.contrib.auth import get_user_model

    client = _client_for(get_user_model().objects.get(username=username))
    return {page: list_page(client, page) for page in LIST_PAGES}


def user_details(username: str, objs: dict[str, list[str]]) -> tuple[dict, list[str]]:
    """The status of each detail page given in ``objs``, and of those the pages answered 200 link to
    (one level: a referral's person), grouped {kind: {status: [keys]}}; and the object links on
    the pages answered 200."""
    from django.contrib.auth import get_user_model

    client = _client_for(get_user_model().objects.get(username=username))
    details, links, todo = {kind: {} for kind in objs}, set(), {kind: list(keys) for kind, keys in objs.items()}
    for level in range(2):
        for kind, keys in todo.items():
            for key in keys:
                response = client.get(detail_url(kind, key))
                details[kind].setdefault(str(response.status_code), []).append(key)
                if response.status_code == 200:
                    links |= object_links(response.content)
        done = {kind: {key for keys in by_status.values() for key in keys} for kind, by_status in details.items()}
        todo = {kind: [key for key in keys if key not in done[kind]] for kind, keys in linked_objects(links, objs).items()}
    return {kind: {status: sorted(keys) for status, keys in by_status.items()} for kind, by_status in details.items()}, sorted(links)


def outsider_view(objs: dict[str, list[str]]) -> dict:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(OUTSIDER, email="utenforstaende@example.invalid", password="x-" + os.urandom(8).hex())
    client = _client_for(user)
    return {
        "details": {kind: {key: client.get(detail_url(kind, key)).status_code for key in keys} for kind, keys in objs.items()},
        "lists": {page: client.get(page).status_code for page in LIST_PAGES},
    }


if __name__ == "__main__":
    main()
