"""Moving in from WHMCS 8.x: ``portal import whmcs --from mysql+pymysql://...``.

:mod:`.source` reads the WHMCS database, :mod:`.steps` hold one module per area (currencies,
clients, ... tickets) run in the order of ``steps.STEPS``, :mod:`.runner` runs them in
transactions (a dry run rolls everything back) and :mod:`portal.imports.report` says what
happened. docs/migrating-from-whmcs.md tells staff what maps where.
"""
