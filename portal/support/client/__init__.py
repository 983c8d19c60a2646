"""Client-area views of the support area."""
