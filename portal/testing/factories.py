"""Small factories for tests: accounts with known passwords."""

from __future__ import annotations

import itertools

from portal.clock import Clock
from portal.models import Client, Staff
from portal.services.accounts import create_staff, register_client

PASSWORD = "correct horse battery"  # noqa: S105 (test accounts only)
_numbers = itertools.count(1)


def make_staff(clock: Clock, **fields: str) -> Staff:
    n = next(_numbers)
    values = {"email": f"staff{n}@example.com", "first_name": f"Staff{n}", "password": PASSWORD}
    values.update(fields)
    return create_staff(clock=clock, **values)


def make_client(clock: Clock, **fields: str) -> Client:
    n = next(_numbers)
    values = {"email": f"client{n}@example.com", "first_name": f"Client{n}", "password": PASSWORD}
    values.update(fields)
    return register_client(clock=clock, **values)
