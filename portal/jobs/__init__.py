"""Scheduled jobs: the registry of job definitions and the APScheduler wiring."""
