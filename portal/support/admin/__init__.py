"""Admin-area views of the support area."""
