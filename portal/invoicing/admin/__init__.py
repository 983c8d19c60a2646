"""Admin-area views of the invoicing area."""
