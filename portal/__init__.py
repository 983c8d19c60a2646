"""Billing portal: the application package.

``create_app`` wires extensions -> blueprints -> plugins -> themes. ``hookimpl`` stays here for
the core's own tests; plugins import it, and everything else they use, from ``portal.plugin_api``
(docs/plugins.md). The app module is imported lazily so that ``portal.billing`` stays usable
without the web stack loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portal.platform.hooks.markers import hookimpl

if TYPE_CHECKING:
    from flask import Flask


def create_app(*args: Any, **kwargs: Any) -> Flask:
    """Build the application; see :func:`portal.core.app.create_app` for the arguments."""
    from portal.core.app import create_app as _create_app

    return _create_app(*args, **kwargs)


__all__ = ["create_app", "hookimpl"]
