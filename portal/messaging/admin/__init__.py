"""Admin-area views of the messaging area."""
