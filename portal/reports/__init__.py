"""The core's reports (income, debtors, MRR, renewals...), built on the plugin reports API."""
