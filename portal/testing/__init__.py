"""Test support usable by the portal's own tests and by plugin authors.

The pytest plugin (``portal.testing.plugin``, registered through the ``pytest11`` entry point)
provides a migrated database on SQLite or PostgreSQL, an app with a movable clock, and web
clients that sign in as staff or as a client. See docs/plugins.md, "Testing a plugin".
"""
