"""Client-area views of the invoicing area."""
