"""Models of the messaging area. Importing this package registers them with SQLAlchemy."""

from portal.messaging.models.mail_template import MailTemplate
from portal.messaging.models.outbox import OutboundAttachment, OutboundMessage, OutboundStatus

__all__ = ["MailTemplate", "OutboundAttachment", "OutboundMessage", "OutboundStatus"]
