"""Models of the support area. Importing this package registers them with SQLAlchemy."""

from portal.support.models.escalation import EscalationRule, TicketAutomationRun
from portal.support.models.sla import BusinessHours, SlaPolicy
from portal.support.models.support import CannedReply, DepartmentSupport
from portal.support.models.ticket import (
    MessageKind,
    MessageSource,
    Ticket,
    TicketAssignment,
    TicketAttachment,
    TicketMailId,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    TicketTag,
    TicketVisibility,
)

__all__ = [
    "BusinessHours",
    "CannedReply",
    "DepartmentSupport",
    "EscalationRule",
    "MessageKind",
    "MessageSource",
    "SlaPolicy",
    "Ticket",
    "TicketAssignment",
    "TicketAttachment",
    "TicketAutomationRun",
    "TicketMailId",
    "TicketMessage",
    "TicketPriority",
    "TicketStatus",
    "TicketTag",
    "TicketVisibility",
]
