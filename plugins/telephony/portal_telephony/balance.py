"""The client's prepaid balance section and the staff's call list: the page layouts are the
base plugin's (:mod:`portal_telephony.client`, :mod:`portal_telephony.admin`), the content is
the rating side's (balance history, rated calls). Until the rating modules fill these in, they
say that there is nothing to show."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup


def balance_section(client: Any) -> Markup:
    """The balance page's content for ``client`` (the rating side's balance and its history)."""
    return Markup("<p class='text-muted' id='telephony-balance-empty'>{}</p>").format(
        _("No prepaid balance yet.")
    )


def calls_section(client: Any) -> Markup:
    """The "Calls" tab's content for ``client`` (the rating side's rated calls)."""
    return Markup("<p class='text-muted' id='telephony-calls-empty'>{}</p>").format(
        _("No calls yet.")
    )
