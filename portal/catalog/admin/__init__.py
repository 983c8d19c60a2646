"""Admin-area views of the catalog area."""
