"""iCalendar (RFC 5545) writing shared by the processes' calendars: escaping and line folding."""


def ical_text(value: str) -> str:
    """``value`` as an iCalendar TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newline escaped."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ical_fold(line: str) -> str:
    """Lines of at most 75 octets, continued with a space (RFC 5545 3.1)."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts, current = [], b""
    for ch in line:
        b = ch.encode()
        if len(current) + len(b) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += b
    parts.append(current.decode())
    return "\r\n ".join(parts)


def ical_document(lines: list[str]) -> str:
    """The content lines as one iCalendar document: folded, CRLF-terminated."""
    return "\r\n".join(ical_fold(line) for line in lines) + "\r\n"
