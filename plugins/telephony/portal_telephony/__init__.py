"""portal-telephony: a virtual PBX sold per plan and seat, phone numbers, SIP trunks, calls.

Products of Module ``telephony`` sell a PBX plan (included seats, a per-seat price beyond them
as the core's quantity option), a SIP trunk or an add-on that only some plans may buy. Phone
numbers come from a pool staff import (``portal telephony import-numbers``); each belongs to a
category by its digits (README.md, "Number categories") with a connection and a monthly fee.
Provisioning reaches the PBX through a program, an HTTP endpoint or staff-only tickets. The
rating side (tariffs, CDR import, prepaid balances, postpaid usage) lives in the modules
``portal_telephony.rating*`` and its own revisions ``telephony_0002`` and later.

Everything here reaches the portal through hooks and ``portal.plugin_api`` only (an
import-linter contract in the portal's setup.cfg holds it to that).
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

log = logging.getLogger(__name__)


# --- the rating side: CDR import, balances, calls, reports (README.md, "Rating") ---------------

from portal.plugin_api import hookimpl  # noqa: E402


@hookimpl
def payment_received(payment) -> None:
    """A payment may bring a blocked prepaid client back above the limit."""
    from portal_telephony import balances

    balances.payment_received(payment)
