"""The core's reports: one module per report, registered with the Reports menu like a plugin's
(``register_reports``, portal/platform/reports.py)."""
