"""How the outbox retries mail that the SMTP server did not take, and when it gives up.

One runtime setting, ``mail_retry`` (Settings → Outgoing mail): the first retry's delay, the
longest delay (each retry waits twice as long as the one before, up to it) and how long after
the first failed attempt the outbox gives up. The last attempt is made exactly then, so the
"give up after" staff enter is the real total (docs/automation.md, "Delivering e-mail").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _

from portal.core import work_queue
from portal.platform import runtime_settings

SETTING = "mail_retry"
#: The bounds of the form: a retry at least a minute away, at most a day; giving up within 30 days.
MAX_DELAY_MINUTES = 24 * 60
MAX_GIVE_UP_HOURS = 30 * 24


@dataclass(frozen=True)
class RetryPolicy:
    first_delay_minutes: int = 1
    max_delay_minutes: int = 6 * 60
    give_up_hours: int = 24

    @property
    def give_up_after(self) -> timedelta:
        return timedelta(hours=self.give_up_hours)

    def delay(self, failed_attempts: int) -> timedelta:
        """How long to wait after the n-th failed attempt: first delay, twice, four times ...
        at most the longest delay."""
        return work_queue.backoff(
            failed_attempts,
            timedelta(minutes=self.first_delay_minutes),
            timedelta(minutes=self.max_delay_minutes),
        )

    def retries(self) -> list[timedelta]:
        """When each retry comes, counted from the first failed attempt; the last is the
        give-up time (shown on the settings page)."""
        offsets: list[timedelta] = []
        at = timedelta(0)
        while at < self.give_up_after:
            at = min(at + self.delay(len(offsets) + 1), self.give_up_after)
            offsets.append(at)
        return offsets

    def to_setting(self) -> dict[str, int]:
        return {
            "first_delay_minutes": self.first_delay_minutes,
            "max_delay_minutes": self.max_delay_minutes,
            "give_up_hours": self.give_up_hours,
        }


class MailSettingsError(ValueError):
    """A value staff entered that cannot be used; ``field`` is the form field to show it on."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def retry_policy() -> RetryPolicy:
    """The policy in force: the stored setting, or the defaults."""
    stored = runtime_settings.get(SETTING) or {}
    known = RetryPolicy().to_setting()
    return RetryPolicy(**{key: int(stored[key]) for key in known if key in stored})


def policy_from(values: Mapping[str, Any]) -> RetryPolicy:
    """The policy the form describes; raises ``MailSettingsError`` naming the field."""
    policy = RetryPolicy(
        first_delay_minutes=int(values["first_delay_minutes"]),
        max_delay_minutes=int(values["max_delay_minutes"]),
        give_up_hours=int(values["give_up_hours"]),
    )
    if not 1 <= policy.first_delay_minutes <= MAX_DELAY_MINUTES:
        raise MailSettingsError(
            _("The first retry comes 1 to %(most)s minutes later.", most=MAX_DELAY_MINUTES),
            "first_delay_minutes",
        )
    if not policy.first_delay_minutes <= policy.max_delay_minutes <= MAX_DELAY_MINUTES:
        raise MailSettingsError(
            _(
                "The longest wait is at least the first one and at most %(most)s minutes.",
                most=MAX_DELAY_MINUTES,
            ),
            "max_delay_minutes",
        )
    if not 1 <= policy.give_up_hours <= MAX_GIVE_UP_HOURS:
        raise MailSettingsError(
            _("Give up after 1 to %(most)s hours.", most=MAX_GIVE_UP_HOURS), "give_up_hours"
        )
    if policy.give_up_after < timedelta(minutes=policy.first_delay_minutes):
        raise MailSettingsError(
            _("Giving up before the first retry would mean no retry at all."), "give_up_hours"
        )
    return policy


def save(values: Mapping[str, Any]) -> RetryPolicy:
    """Check the values, then store them (the change audited). Commits."""
    policy = policy_from(values)
    runtime_settings.put(SETTING, policy.to_setting())
    return policy
