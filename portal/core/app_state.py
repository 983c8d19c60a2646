"""What ``create_app`` hangs on the application: the clock and the plugins, for any layer."""

from __future__ import annotations

from flask import current_app

from portal.core.clock import Clock
from portal.platform.hooks.manager import PortalPlugins


def clock() -> Clock:
    return current_app.extensions["portal.core.clock"]


def plugins() -> PortalPlugins:
    return current_app.extensions["portal.plugins"]
