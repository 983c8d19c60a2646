"""Scheduled jobs: the registry of job definitions and the APScheduler wiring.

Plugins return :class:`JobDefinition` objects from the ``register_scheduled_jobs`` hook.
"""

from portal.platform.jobs.registry import JobDefinition

__all__ = ["JobDefinition"]
