"""Staff forms for invoices, payments and the provider's details."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, DecimalField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.invoicing import payment_references
from portal.invoicing.models.invoice import CREDIT_NOTE_SETTLEMENT_LABELS, CreditNoteSettlement
from portal.invoicing.payment_references import PaymentReference
from portal.web.forms import BoundedIntegerField, MoneyField, MultiCheckboxField, enum_choices

#: How a manual line is taxed: at the client's rate (the default), without VAT, or at a rate.
TAX_CLIENT, TAX_NONE, TAX_RATE = "client", "none", "rate"


class DraftLineForm(FlaskForm):
    description = StringField(_l("Description"), validators=[DataRequired(), Length(max=500)])
    quantity = MoneyField(
        _l("Quantity"), default=1, validators=[DataRequired(), NumberRange(min=0)]
    )
    unit_price = MoneyField(_l("Unit price"), signed=True, validators=[DataRequired()])
    #: An empty VAT is not "no VAT": a manual line is taxed like the client's other lines
    #: unless staff say otherwise (see ``invoices.add_manual_line``).
    tax_mode = SelectField(
        _l("VAT"),
        choices=[
            (TAX_CLIENT, _l("The client's rate")),
            (TAX_NONE, _l("No VAT")),
            (TAX_RATE, _l("This rate:")),
        ],
        default=TAX_CLIENT,
        description=_l(
            "The client's rate is the VAT rate in force on the invoice date, or no VAT for a "
            "tax-exempt client."
        ),
    )
    tax_percent = MoneyField(
        _l("VAT rate, %"),
        validators=[Optional(), NumberRange(0, 100)],
        description=_l("Only with «This rate»; 0 % prints as «Без НДС»."),
    )
    tax_inclusive = BooleanField(_l("Price includes VAT"))

    def validate_tax_percent(self, field: DecimalField) -> None:
        if self.tax_mode.data == TAX_RATE and field.data is None:
            raise ValidationError(_l("Enter the rate, or choose the client's rate or no VAT."))
        if self.tax_mode.data != TAX_RATE and field.data is not None:
            raise ValidationError(_l("A rate is used only with «This rate»."))

    period_start = DateField(_l("Period from"), validators=[Optional()])
    period_end = DateField(_l("Period to (inclusive)"), validators=[Optional()])


class NewInvoiceForm(FlaskForm):
    client_id = BoundedIntegerField(
        _l("Client ID"), validators=[DataRequired(), NumberRange(min=1)]
    )


class _PeriodDate(DateField):
    """A date typed or picked as YYYY-MM-DD, refused in the reader's language."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD, e.g. 2026-01-31.")) from None


class PaymentForm(FlaskForm):
    """A payment typed by staff. For a bank transfer the payment order's number, date and (when
    someone other than the client paid) the payer's INN make the same reference a statement
    import makes, so the import finds this payment instead of recording it again
    (portal/invoicing/payment_references.py)."""

    amount = MoneyField(_l("Amount"), validators=[DataRequired()])
    payment_date = DateField(_l("Date"), validators=[DataRequired()])
    method = StringField(_l("Method"), default="bank", validators=[DataRequired(), Length(max=50)])
    reference = StringField(
        _l("Payment order or transaction number"), validators=[DataRequired(), Length(max=100)]
    )
    order_date = _PeriodDate(
        _l("Payment order date"),
        validators=[Optional()],
        description=_l("As printed on the payment order; a bank statement shows it too."),
    )
    payer_inn = StringField(
        _l("Payer's INN"),
        validators=[Optional()],
        description=_l("Only if someone other than the client paid."),
    )
    description = StringField(_l("Comment"), validators=[Optional(), Length(max=500)])

    def _by_bank(self) -> bool:
        return (self.method.data or "").strip() == payment_references.BANK

    def validate_reference(self, field: StringField) -> None:
        if self._by_bank() and payment_references.order_number(field.data or "") is None:
            raise ValidationError(
                _("Enter the number of the payment order: digits only, e.g. 701.")
            )

    def validate_order_date(self, field: DateField) -> None:
        if field.data and self.payment_date.data and field.data > self.payment_date.data:
            raise ValidationError(
                _("The payment order cannot be dated after the money was received.")
            )

    def validate_payer_inn(self, field: StringField) -> None:
        inn = (field.data or "").strip()
        if inn and not (inn.isascii() and inn.isdigit() and len(inn) in (10, 12)):
            raise ValidationError(_("An INN is 10 digits (a company) or 12 (a person)."))

    def payment_reference(self) -> PaymentReference:
        """The reference in normal form: a payment order for a bank transfer, the typed text
        (a transaction id) for another method."""
        method = self.method.data.strip()
        if method != payment_references.BANK:
            return payment_references.parse(method, self.reference.data)
        number = payment_references.order_number(self.reference.data) or ""
        return payment_references.bank_order(
            number, self.order_date.data, (self.payer_inn.data or "").strip()
        )


class MassPaymentForm(PaymentForm):
    invoices = MultiCheckboxField(_l("Invoices"), coerce=int)


class CreditNoteForm(FlaskForm):
    amount = MoneyField(
        _l("Amount with VAT to take off the invoice"),
        validators=[InputRequired(_l("Enter the amount of the credit note."))],
    )
    reason = StringField(
        _l("Reason"),
        validators=[InputRequired(_l("Say why the invoice is corrected.")), Length(max=300)],
    )
    settlement = SelectField(
        _l("What to do with the amount"),
        choices=enum_choices(CREDIT_NOTE_SETTLEMENT_LABELS),
        coerce=CreditNoteSettlement,
        default=CreditNoteSettlement.CREDIT,
    )
    refund_method = StringField(
        _l("Refund method"), default="bank", validators=[Optional(), Length(max=50)]
    )
    refund_reference = StringField(
        _l("Refund payment order number"), validators=[Optional(), Length(max=100)]
    )


class RefundForm(FlaskForm):
    amount = MoneyField(_l("Amount"), validators=[DataRequired()])
    to_credit = BooleanField(_l("To the credit balance (otherwise paid out)"), default=True)
    reference = StringField(_l("Payout reference"), validators=[Optional(), Length(max=100)])


class StatementForm(FlaskForm):
    """The period of a statement of account (both areas); empty fields take the defaults."""

    class Meta:
        csrf = False  # a GET filter: it changes nothing

    date_from = _PeriodDate(_l("From"), validators=[Optional()])
    date_to = _PeriodDate(_l("To"), validators=[Optional()])

    def period(self, today: date) -> tuple[date, date] | None:
        """The chosen period (start of the year to ``today`` by default), or None with the
        fields' errors set."""
        if not self.validate():
            return None
        start = self.date_from.data or today.replace(month=1, day=1)
        end = self.date_to.data or today
        if end < start:
            self.date_to.errors = [_("The end of the period is before its start.")]
            return None
        return start, end


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
    credit_note_number_format = StringField(
        _l("Credit note number format"),
        default="К-{year}-{number:06d}",
        validators=[DataRequired(), Length(max=60)],
    )
    invoice_due_days = BoundedIntegerField(
        _l("Days to pay an invoice"), default=10, validators=[DataRequired(), NumberRange(0, 365)]
    )


class StatementUploadForm(FlaskForm):
    statement = FileField(
        _l("Statement file (1CClientBankExchange)"),
        validators=[FileRequired(_l("Choose the statement file."))],
    )


class DismissPaymentForm(FlaskForm):
    reason = StringField(_l("Why it is not ours"), validators=[DataRequired(), Length(max=500)])
