"""CI check: `makemessages` finds no string without a bokmål translation (issue 7, point 1).

`makemessages` runs on a copy of the source tree (the committed catalogue is never rewritten here),
and the catalogues it produces must have no untranslated and no fuzzy entry: a new string without a
translation, a string whose msgid changed (gettext then guesses a fuzzy translation from a similar
one, which Django never shows), or a string `makemessages` no longer collects (its translation goes
obsolete and the UI shows English) all fail here, each listed by msgid.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.test_i18n import _label, parse_po

# Never scanned: installed packages, the browser tools, build output and runtime data.
IGNORE = [".venv", "node_modules", ".venv-lock", "staticfiles", "var"]
NOT_COPIED = shutil.ignore_patterns(*IGNORE, ".git", "__pycache__", ".pytest_cache", ".hypothesis", ".import_linter_cache")


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """The locale directory of a copy of the project after `makemessages -l nb` (both domains)."""
    if not shutil.which("xgettext") or not shutil.which("msgmerge"):
        pytest.skip("gettext is not installed (make system-deps)")
    copy = tmp_path_factory.mktemp("makemessages") / "project"
    shutil.copytree(settings.BASE_DIR, copy, ignore=NOT_COPIED, symlinks=True)
    env = {**os.environ, "DJANGO_EMBEDDED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    for domain in ("django", "djangojs"):
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "nb", "-d", domain, *[f"--ignore={i}" for i in IGNORE], "-v0"],
            cwd=copy, env=env, check=True, timeout=300,
        )
    return copy / "locale" / "nb" / "LC_MESSAGES"


class MakemessagesTests:
    @pytest.mark.parametrize("domain", ["django", "djangojs"])
    def test_it_leaves_no_untranslated_or_fuzzy_entry(self, collected, domain):
        entries = parse_po(collected / f"{domain}.po")
        assert entries, domain
        untranslated = [_label(e) for e in entries if not e["msgstr"] or not all(e["msgstr"].values())]
        fuzzy = [_label(e) for e in entries if "fuzzy" in e["flags"]]
        assert untranslated == [], f"translate these in locale/nb/LC_MESSAGES/{domain}.po (run makemessages)"
        assert fuzzy == [], f"check these fuzzy translations in locale/nb/LC_MESSAGES/{domain}.po"

    def test_it_left_the_committed_catalogue_alone(self, collected):
        committed = Path(settings.BASE_DIR) / "locale" / "nb" / "LC_MESSAGES" / "django.po"
        assert collected / "django.po" != committed
        assert not (collected / "django.po").samefile(committed)
