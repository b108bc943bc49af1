"""Norwegian identity numbers, validated with python-stdnum."""
import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import fodselsnummer

ID_LIKE = r"(?<!\d)(\d{6})\s?(\d{5})(?!\d)"


def parse_national_id(value: str):
    """Return ``(compact_number, kind, birth_date)`` or raise a translated ValidationError.

    ``kind`` is "fnr" or "dnr" (a D-number has 4 added to the first digit).
    """
    raw = (value or "").strip()
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
    return number, kind, birth


def contains_national_id(text: str) -> bool:
    """True when free text holds something that is, or could be, an 11-digit identity number."""
    import re

    for match in re.finditer(ID_LIKE, text or ""):
        candidate = match.group(1) + match.group(2)
        try:
            fodselsnummer.validate(candidate)
            return True
        except StdnumError:
            pass
        # Even a number with a wrong checksum identifies someone in practice if its first six
        # digits are a real date: refuse those too.
        try:
            dd, mm, yy = int(candidate[0:2]) % 40, int(candidate[2:4]) % 40, int(candidate[4:6])
            datetime.date(2000 + yy, mm, dd)
            return True
        except ValueError:
            continue
    return False


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
