"""Staff forms for invoices, payments and the provider's details."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, DecimalField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.web.forms import MultiCheckboxField


class DraftLineForm(FlaskForm):
    description = StringField(_l("Description"), validators=[DataRequired(), Length(max=500)])
    quantity = DecimalField(
        _l("Quantity"), default=1, places=None, validators=[DataRequired(), NumberRange(min=0)]
    )
    unit_price = DecimalField(_l("Unit price"), places=None, validators=[DataRequired()])
    tax_percent = DecimalField(
        _l("VAT, %"), places=None, validators=[Optional(), NumberRange(0, 100)]
    )
    tax_inclusive = BooleanField(_l("Price includes VAT"))
    period_start = DateField(_l("Period from"), validators=[Optional()])
    period_end = DateField(_l("Period to (inclusive)"), validators=[Optional()])


class NewInvoiceForm(FlaskForm):
    client_id = IntegerField(_l("Client ID"), validators=[DataRequired(), NumberRange(min=1)])


class PaymentForm(FlaskForm):
    amount = DecimalField(_l("Amount"), places=None, validators=[DataRequired()])
    payment_date = DateField(_l("Date"), validators=[DataRequired()])
    method = StringField(_l("Method"), default="bank", validators=[DataRequired(), Length(max=50)])
    reference = StringField(
        _l("Payment order or transaction number"), validators=[DataRequired(), Length(max=100)]
    )
    description = StringField(_l("Comment"), validators=[Optional(), Length(max=500)])


class MassPaymentForm(PaymentForm):
    invoices = MultiCheckboxField(_l("Invoices"), coerce=int)


class CreditNoteForm(FlaskForm):
    amount = DecimalField(_l("Amount"), places=None, validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=300)])


class RefundForm(FlaskForm):
    amount = DecimalField(_l("Amount"), places=None, validators=[DataRequired()])
    to_credit = BooleanField(_l("To the credit balance (otherwise paid out)"), default=True)
    reference = StringField(_l("Payout reference"), validators=[Optional(), Length(max=100)])


class StatementForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])


class CompanyForm(FlaskForm):
    name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=255)])
    inn = StringField(_l("INN"), validators=[Optional(), Length(max=14)])
    kpp = StringField(_l("KPP"), validators=[Optional(), Length(max=11)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=255)])
    bank_bic = StringField(_l("BIC"), validators=[Optional(), Length(max=11)])
    bank_account = StringField(_l("Settlement account"), validators=[Optional(), Length(max=24)])
    bank_corr_account = StringField(
        _l("Correspondent account"), validators=[Optional(), Length(max=24)]
    )
    signatory = StringField(
        _l("Director (signs documents)"), validators=[Optional(), Length(max=200)]
    )
    accountant = StringField(_l("Chief accountant"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    invoice_number_format = StringField(
        _l("Invoice number format"),
        default="{year}-{number:06d}",
        validators=[DataRequired(), Length(max=60)],
    )
    invoice_due_days = IntegerField(
        _l("Days to pay an invoice"), default=10, validators=[DataRequired(), NumberRange(0, 365)]
    )


class StatementUploadForm(FlaskForm):
    statement = FileField(
        _l("Statement file (1CClientBankExchange)"),
        validators=[FileRequired(_l("Choose the statement file."))],
    )


class DismissPaymentForm(FlaskForm):
    reason = StringField(_l("Why it is not ours"), validators=[DataRequired(), Length(max=500)])
