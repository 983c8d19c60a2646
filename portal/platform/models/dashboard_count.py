"""Running counts behind the dashboard's header counters, kept by database triggers.

A row is (counter, bucket, value): ``invoices_open`` has a bucket per due date (the number of
unpaid or partly paid invoices due that day), ``tickets_awaiting`` a single bucket. Triggers on
``invoice`` and ``ticket`` (migration 0036) add and subtract as rows are inserted, updated and
deleted, so every writer — services, bulk statements, imports — keeps them right in the same
transaction. docs/development.md, "Dashboard figures", explains the choice.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.model_base import Base

#: The bucket of a counter that is not split by date.
UNDATED = date(1970, 1, 1)


class DashboardCount(Base):
    __tablename__ = "dashboard_count"

    counter: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
