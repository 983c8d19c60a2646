"""Open-redirect protection for ``next`` parameters: only paths on this site are followed."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_safe_next(target: str | None) -> bool:
    """True for a local absolute path such as ``/admin/clients?page=2``.

    Refused: other hosts, scheme-relative ``//evil``, backslash tricks browsers read as ``//``,
    control characters, and anything that is not a path.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
