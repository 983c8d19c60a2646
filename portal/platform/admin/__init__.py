"""Admin-area views of the platform area."""
