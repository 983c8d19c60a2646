"""Admin-area views of the orders area."""
