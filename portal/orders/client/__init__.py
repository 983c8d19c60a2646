"""Client-area views of the orders area."""
