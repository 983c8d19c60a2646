"""Plugin hooks: markers, specifications and the manager."""

from portal.platform.hooks.markers import hookimpl, hookspec

__all__ = ["hookimpl", "hookspec"]
