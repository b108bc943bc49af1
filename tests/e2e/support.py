"""Small helpers for the end-to-end tests (not fixtures)."""
import os
import re

from django.utils import timezone, translation
from django.utils.formats import date_format


def nb(text) -> str:
    """The Norwegian UI text of a source string or lazy label, so tests follow the catalogue."""
    with translation.override("nb"):
        return str(translation.gettext(text) if isinstance(text, str) else text)


def nb_datetime(value) -> str:
    """A datetime as the Norwegian pages show it (SHORT_DATETIME_FORMAT, local time)."""
    with translation.override("nb"):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def exact(text: str):
    """A regex that matches ``text`` as the whole (trimmed) accessible name."""
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def screenshot(page, name: str):
    """Save a full-page screenshot when E2E_SCREENSHOTS names a folder (for looking at the design)."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)
