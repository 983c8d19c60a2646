"""Use cases. Services own the transaction, call ``portal.billing`` and fire hooks."""
