"""The owners' dashboard's figures as last computed (Reports → the index), so a visit reads one
row instead of computing MRR, income and debtors over every service, payment and invoice.

One row per kept set of figures (``key``; the dashboard's is ``"dashboard"``). ``stale`` is
set in the transaction of any ORM write to the rows the figures come from; ``version`` counts
the times the row was claimed or marked stale, so figures computed while a change committed are
never stored as fresh. ``portal.reports.dashboard`` reads, computes and stores them;
docs/performance.md, "Report figures", explains the choice.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.model_base import Base, UTCDateTime


class ReportFigures(Base):
    __tablename__ = "report_figures"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: The business day the figures are for (income this month, MRR today).
    day: Mapped[date | None] = mapped_column(Date)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stale: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    #: The figures as JSON (amounts as decimal strings); empty until first computed.
    payload: Mapped[str] = mapped_column(Text, default="")
