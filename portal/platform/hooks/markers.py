"""Hook markers. This module imports only pluggy, so a plugin can import it cheaply."""

from pluggy import HookimplMarker, HookspecMarker

PROJECT_NAME = "portal"

hookspec = HookspecMarker(PROJECT_NAME)
hookimpl = HookimplMarker(PROJECT_NAME)
