"""Fetch support mail from an IMAP mailbox (for providers whose mail server cannot pipe).

``poll_imap`` reads the unseen messages of one folder and hands each raw message to a handler;
a message is flagged ``\\Seen`` only after its handler returned, so a crash or an error leaves
it for the next poll. Handling the same message twice is harmless: the intake recognises a
Message-ID it has already filed.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


class ImapError(RuntimeError):
    pass


@dataclass
class PollReport:
    fetched: int = 0
    handled: int = 0
    failed: int = 0
    results: list[str] = field(default_factory=list)


def _check(response: tuple[str, list]) -> list:
    status, data = response
    if status != "OK":
        raise ImapError(f"IMAP server said {status}: {data!r}")
    return data


def _raw_message(data: list) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def poll_imap(
    handler: Callable[[bytes], object],
    *,
    host: str,
    port: int,
    user: str,
    password: str,
    use_ssl: bool = True,
    folder: str = "INBOX",
    limit: int = 100,
    timeout: float = 30,
) -> PollReport:
    """Hand up to ``limit`` unseen messages of ``folder`` to ``handler``, oldest first."""
    report = PollReport()
    connection: imaplib.IMAP4
    if use_ssl:
        connection = imaplib.IMAP4_SSL(
            host, port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    else:
        connection = imaplib.IMAP4(host, port, timeout=timeout)
    with connection:
        _check(connection.login(user, password))
        _check(connection.select(folder))
        uids = _check(connection.uid("SEARCH", None, "UNSEEN"))[0].split()[:limit]
        for uid in uids:
            raw = _raw_message(_check(connection.uid("FETCH", uid, "(BODY.PEEK[])")))
            if raw is None:
                continue
            report.fetched += 1
            try:
                result = handler(raw)
            except Exception as exc:  # one bad message must not stop the mailbox
                log.exception("IMAP message %s could not be handled", uid.decode())
                report.failed += 1
                report.results.append(f"{uid.decode()}: error: {exc}")
                continue
            _check(connection.uid("STORE", uid, "+FLAGS", "(\\Seen)"))
            report.handled += 1
            report.results.append(f"{uid.decode()}: {result}")
    return report
