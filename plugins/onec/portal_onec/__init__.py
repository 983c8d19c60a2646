"""portal-onec: 1C in the cloud sold per user, per information base and per organisation.

Everything here reaches the portal through hooks and ``portal.plugin_api`` only (an
import-linter contract in the portal's setup.cfg holds it to that).
"""

from __future__ import annotations

__version__ = "0.1.0"
