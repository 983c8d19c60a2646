"""Client-area views. Sign-in is required for all of them (portal.web.identity); every query
here is scoped to ``current_user``, the signed-in client."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal.app_state import plugins
from portal.web.identity import Area

client = Blueprint("client", __name__)
client.portal_area = Area.CLIENT  # type: ignore[attr-defined]


@client.route("/")
def dashboard() -> str:
    panels = sorted(plugins().collect("register_client_area_panels"), key=lambda p: p.order)
    return render_template("client/dashboard.html", panels=panels)
