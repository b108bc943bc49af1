"""Validation shared by forms and services: Norwegian identity numbers (python-stdnum), birth dates,
identity numbers hidden in free text, and free-text length limits."""
import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import fodselsnummer

# Nobody alive was born more than this many years ago: an older birth date (typed, or read from an
# identity number) is a typing error, e.g. 1800 for 2018.
MAX_AGE_YEARS = 120
# Child welfare (barnevernsloven) acts on children: a melding is about someone under 18.
CHILD_UNDER = 18

# Free-text limits in characters, one per kind of text; a form field and its service use the same
# constant, so a service called directly refuses what the page refuses. SHORT: a reason, a note or
# a message that the next reader takes in at a glance (about a page); MEDIUM: a description written
# for another service or the reporter (advice, a referral's reason, an outcome: two to three pages);
# LONG: an account of what was observed, or a service's own working notes (five to six pages).
SHORT_TEXT = 2_000
MEDIUM_TEXT = 5_000
LONG_TEXT = 10_000
# A given or family name: the length of Person.given_name / family_name.
NAME_LENGTH = 120


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day ``years`` earlier (28 February for 29 February in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return datetime.date(day.year - years, 2, 28)


def years_after(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day ``years`` later (28 February for 29 February in a common year)."""
    return years_before(day, -years)


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def birth_date_problem(birth_date: datetime.date | None, *, today: datetime.date | None = None) -> str | None:
    """A translated reason why ``birth_date`` cannot be a living person's, or None."""
    if birth_date is None:
        return None
    today = today or timezone.localdate()
    if birth_date > today:
        return _("The birth date cannot be in the future.")
    if birth_date < years_before(today, MAX_AGE_YEARS):
        return _("The birth date is more than %(years)s years ago. Check the year.") % {"years": MAX_AGE_YEARS}
    return None


def child_birth_date_problem(birth_date: datetime.date | None, *, today: datetime.date | None = None) -> str | None:
    """Like ``birth_date_problem``, and also refuses someone who is 18 or older on ``today``."""
    today = today or timezone.localdate()
    problem = birth_date_problem(birth_date, today=today)
    if problem is None and birth_date is not None and age_on(birth_date, today) >= CHILD_UNDER:
        problem = _(
            "The child welfare service receives meldinger about children under 18; by this birth date the person is %(age)s."
        ) % {"age": age_on(birth_date, today)}
    return problem


def _ascii_digits(text: str) -> str:
    """NFKC (full-width and other compatibility digits become ASCII), any other decimal digit
    (Arabic-Indic, Devanagari, …) as its ASCII digit, and invisible format characters (zero-width
    space, soft hyphen, word joiner) removed, so none of them hides a number."""
    text = unicodedata.normalize("NFKC", text or "")
    out = []
    for ch in text:
        if unicodedata.category(ch) == "Cf":
            continue
        out.append(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch)
    return "".join(out)


def parse_national_id(value: str):
    """Return ``(compact_number, kind, birth_date)`` or raise a translated ValidationError.

    ``kind`` is "fnr" or "dnr" (a D-number has 4 added to the first digit). Spaces, dots and
    dashes between the digits, and full-width digits, are accepted. The birth date the number
    gives must be a living person's (not in the future, at most MAX_AGE_YEARS ago).
    """
    raw = re.sub(r"[\s.\-\u2010-\u2015\u2212]", "", _ascii_digits(value or ""))
    try:
        number = fodselsnummer.validate(raw)
    except StdnumError:
        raise ValidationError(
            _("The national identity number is not valid. Check that all 11 digits are correct."),
            code="invalid_national_id",
        )
    kind = "dnr" if int(number[0]) >= 4 else "fnr"
    try:
        birth = fodselsnummer.get_birth_date(number)
    except StdnumError:
        raise ValidationError(_("The national identity number has an impossible birth date."), code="invalid_national_id")
    problem = birth_date_problem(birth)
    if problem is not None:
        raise ValidationError(
            _("The national identity number gives an impossible birth date. Check that all 11 digits are correct."),
            code="invalid_national_id",
        )
    return number, kind, birth


# Separators people put between the digit groups of a number: spaces (also non-breaking), dots,
# dashes, slashes, underscores. At most three in a row ("230894 - 00007").
_SEP = r"[\s.\-/_\u2010-\u2015\u2212]"
_DIGIT_GROUPS = re.compile(rf"\d+(?:{_SEP}{{1,3}}\d+)*")
# The letter O written for a zero: an O or o with no other letter next to it (23O894OOOO7; not the
# O of "Oslo" or the o of "to").
_O_FOR_ZERO = re.compile(r"(?<![^\W\dOo_])[Oo](?![^\W\dOo_])")


def _id_candidates(text: str):
    """Every 11-digit string written in ``text`` as one number or as consecutive groups of digits
    with separators between them (a single group longer than 11 digits is a different number)."""
    text = _O_FOR_ZERO.sub("0", _ascii_digits(text))
    for run in _DIGIT_GROUPS.finditer(text):
        groups = re.split(rf"{_SEP}+", run.group(0))
        for start in range(len(groups)):
            digits = ""
            for group in groups[start:]:
                digits += group
                if len(digits) >= 11:
                    break
            if len(digits) == 11:
                yield digits


def _looks_like_birth_date(digits: str) -> bool:
    # D-numbers add 40 to the day, H-numbers 40 to the month.
    dd, mm, yy = int(digits[0:2]) % 40, int(digits[2:4]) % 40, int(digits[4:6])
    for century in (1900, 2000):
        try:
            datetime.date(century + yy, mm, dd)
            return True
        except ValueError:
            continue
    return False


def contains_national_id(text: str) -> bool:
    """True when free text holds something that is, or could be, an 11-digit identity number.

    Written in any way a person may write one: with spaces, dots, dashes or slashes between digit
    groups, with full-width or other Unicode digits, with the letter O for a zero. A number with a
    valid check digit counts, and so does any 11 digits whose first six are a date (a number with
    a typo still identifies the child in practice).
    """
    for candidate in _id_candidates(text):
        try:
            fodselsnummer.validate(candidate)
            return True
        except StdnumError:
            pass
        if _looks_like_birth_date(candidate):
            return True
    return False


def text_too_long(value: str | None, max_length: int) -> str | None:
    """A translated reason when ``value`` is longer than ``max_length`` characters, else None."""
    length = len(value or "")
    if length <= max_length:
        return None
    return _("The text may be at most %(max)s characters long; it is %(length)s.") % {
        "max": number_format(max_length, force_grouping=True), "length": number_format(length, force_grouping=True),
    }


def text_limits(**fields: tuple[str | None, int]) -> None:
    """Refuse free text longer than its limit: ``text_limits(reason=(reason, SHORT_TEXT), …)``.

    Raises one ValidationError with an error per field that is too long; services call it before
    they write anything.
    """
    errors = {}
    for name, (value, max_length) in fields.items():
        problem = text_too_long(value, max_length)
        if problem is not None:
            errors[name] = ValidationError(problem, code="max_length")
    if errors:
        raise ValidationError(errors)


def synthetic_national_id(birth_date: datetime.date, start: int | None = None) -> str:
    """A checksum-valid fødselsnummer for ``birth_date`` (demo data and tests; never a real person's on purpose).

    Tries individual numbers from ``start`` until both check digits exist. The individual number
    encodes the century (000–499: 1900–1999; 500–999: 2000–2039), so by default it starts where
    the birth year's century begins; a 1979 birth date with 500 would be read back as 1879.
    """
    if start is None:
        start = 0 if birth_date.year < 2000 else 500
    base = birth_date.strftime("%d%m%y")
    for individual in range(start, 1000):
        digits = [int(c) for c in f"{base}{individual:03d}"]
        k1 = 11 - sum(w * d for w, d in zip([3, 7, 6, 1, 8, 9, 4, 5, 2], digits)) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        digits.append(k1)
        k2 = 11 - sum(w * d for w, d in zip([5, 4, 3, 2, 7, 6, 5, 4, 3, 2], digits)) % 11
        k2 = 0 if k2 == 11 else k2
        if k2 == 10:
            continue
        return "".join(map(str, digits)) + str(k2)
    raise ValueError("no valid number in range")
