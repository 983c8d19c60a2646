"""Fixtures come from portal.testing.plugin (registered as a pytest11 entry point)."""
