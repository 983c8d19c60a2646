"""Plugin hooks: markers, specifications and the manager."""

from portal.hooks.markers import hookimpl, hookspec

__all__ = ["hookimpl", "hookspec"]
