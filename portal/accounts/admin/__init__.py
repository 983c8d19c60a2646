"""Admin-area views of the accounts area."""
