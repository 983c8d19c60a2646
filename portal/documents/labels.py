"""The fixed wording of the documents, per language, as plain dictionaries.

Not gettext: an invoice or an act is a legal text whose wording is fixed by practice ("Всего к
оплате", the act's closing sentence), and a document is printed in the language the *client*
asked for, not the one the staff member's interface happens to use. A dictionary per language
keeps every phrase of one document side by side, checked by a test to have the same keys in
both languages, and renders without a request or a Flask app. Placeholders are ``str.format``
fields, filled in by ``render.py``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

_RU: Final = {
    "inn": "ИНН",
    "kpp": "КПП",
    "address": "Адрес",
    # The bank details block at the top of an invoice.
    "bank_name": "Банк получателя",
    "bic": "БИК",
    "account": "Сч. №",
    "recipient": "Получатель",
    # Titles and parties.
    "invoice_title": "Счёт на оплату № {number} от {date}",
    "act_title": "Акт № {number} от {date}",
    "supplier": "Поставщик (Исполнитель):",
    "customer": "Покупатель (Заказчик):",
    "contractor": "Исполнитель:",
    "client": "Заказчик:",
    "basis": "Основание:",
    "basis_invoice": "Счёт на оплату № {number}",
    "period": "Период оказания услуг: с {start} по {end}",
    # The table.
    "col_no": "№",
    "col_goods": "Товары (работы, услуги)",
    "col_services": "Наименование работ, услуг",
    "col_qty": "Кол-во",
    "col_unit": "Ед.",
    "col_price": "Цена",
    "col_amount": "Сумма",
    # Totals.
    "subtotal": "Итого:",
    "vat_included": "В том числе НДС {rate} %:",
    "vat_added": "НДС {rate} %:",
    "no_vat": "Без налога (НДС)",
    "no_vat_value": "-",
    "total": "Всего:",
    "total_with_vat": "Всего (с учётом НДС):",
    "credit_applied": "Зачтено из кредитного баланса:",
    "total_due": "Всего к оплате:",
    "discount_note": "Предоставлена скидка {amount} {currency} (учтена в суммах выше).",
    "items_summary": "Всего наименований {count}, на сумму {amount} {currency}",
    "items_summary_due": "Всего наименований {count}, на сумму {amount} {currency}, "
    "к оплате {due} {currency}",
    "services_summary": "Всего оказано услуг {count}, на сумму {amount} {currency}",
    "pay_by": "Оплатить не позднее {date}",
    "purpose_label": "Назначение платежа (укажите в платёжном поручении):",
    "purpose": "Оплата по счету № {number} от {date}. Сумма {amount} {currency}, {tax}",
    "purpose_vat": "в т.ч. НДС {rate} % - {amount} {currency}",
    "purpose_no_vat": "НДС не облагается",
    "notes": "Примечание:",
    # A mixed document (prices with and without VAT): per-line net, VAT and gross columns.
    "subtotal_net": "Итого без НДС:",
    "col_net": "Сумма без НДС",
    "col_vat_rate": "Ставка НДС",
    "col_vat": "Сумма НДС",
    "col_gross": "Сумма с НДС",
    "line_no_vat": "без НДС",
    "price_with_vat_note": "* Цена включает НДС: количество × цена = сумма с НДС; в остальных "
    "строках количество × цена = сумма без НДС.",
    # Payments.
    "amount_paid": "Оплачено:",
    "paid": "Счёт оплачен.",
    "paid_on": "Счёт оплачен {date}",
    # A correction (credit note).
    "correction_title": "Корректировочный счёт № {number} от {date}",
    "correction_basis": "К счёту на оплату № {number} от {date}",
    "correction_total": "Сумма корректировки:",
    "correction_summary": "Всего наименований {count}, сумма корректировки {amount} {currency}",
    "correction_statement": "Сумма счёта на оплату № {number} от {date} уменьшается на {amount} "
    "{currency}",
    "not_payable": "Этот документ не является требованием об оплате.",
    # Signatures.
    "head": "Руководитель",
    "accountant": "Бухгалтер",
    "act_statement": "Вышеперечисленные услуги выполнены полностью и в срок. "
    "Заказчик претензий по объему, качеству и срокам оказания услуг не имеет.",
    "contractor_sign": "ИСПОЛНИТЕЛЬ",
    "client_sign": "ЗАКАЗЧИК",
    "signature": "подпись",
    "full_name": "расшифровка подписи",
    "seal": "М.П.",
    # The reconciliation statement (акт сверки взаиморасчётов).
    "recon_title": "Акт сверки взаимных расчётов",
    "recon_subtitle": "за период с {start} по {end}",
    "recon_between": "между {seller} и {buyer}",
    "recon_intro": "Мы, нижеподписавшиеся, {seller}, с одной стороны, и {buyer}, с другой "
    "стороны, составили настоящий акт сверки о том, что состояние взаимных расчётов "
    "по данным учёта следующее:",
    "recon_side": "По данным {name}, {currency}",
    "recon_date": "Дата",
    "recon_document": "Документ",
    "recon_debit": "Дебет",
    "recon_credit": "Кредит",
    "recon_opening": "Сальдо начальное",
    "recon_turnover": "Обороты за период",
    "recon_closing": "Сальдо конечное",
    "recon_debt": "По данным {seller} на {date} задолженность в пользу {creditor} "
    "составляет {amount} {currency} ({words}).",
    "recon_no_debt": "По данным {seller} на {date} задолженность отсутствует.",
    "recon_from": "От {name}",
    "recon_chief_accountant": "Главный бухгалтер",
    "recon_invoice": "Реализация (счёт № {number})",
    "recon_credit_note": "Корректировка реализации (кредит-нота № {number})",
    "recon_payment": "Оплата ({number})",
    "recon_refund": "Возврат денежных средств ({number})",
    "recon_invoice_refunded": "Сторно реализации (счёт № {number}, средства возвращены)",
    "recon_downgrade": "Перерасчёт при смене тарифа",
    "recon_manual": "Корректировка задолженности",
    "recon_correction": "Корректировка",
}

_EN: Final = {
    "inn": "INN",
    "kpp": "KPP",
    "address": "Address",
    "bank_name": "Beneficiary's bank",
    "bic": "BIC",
    "account": "Account No.",
    "recipient": "Beneficiary",
    "invoice_title": "Invoice No. {number} dated {date}",
    "act_title": "Act of Services Rendered No. {number} dated {date}",
    "supplier": "Supplier:",
    "customer": "Customer:",
    "contractor": "Contractor:",
    "client": "Customer:",
    "basis": "Basis:",
    "basis_invoice": "Invoice No. {number}",
    "period": "Service period: from {start} to {end}",
    "col_no": "No.",
    "col_goods": "Goods (works, services)",
    "col_services": "Works, services",
    "col_qty": "Qty",
    "col_unit": "Unit",
    "col_price": "Price",
    "col_amount": "Amount",
    "subtotal": "Subtotal:",
    "vat_included": "Including VAT {rate} %:",
    "vat_added": "VAT {rate} %:",
    "no_vat": "VAT not applicable",
    "no_vat_value": "-",
    "total": "Total:",
    "total_with_vat": "Total (VAT included):",
    "credit_applied": "Credit balance applied:",
    "total_due": "Total due:",
    "discount_note": "Discount granted: {amount} {currency} (included in the amounts above).",
    "items_summary": "Total items: {count}, amount {amount} {currency}",
    "items_summary_due": "Total items: {count}, amount {amount} {currency}, due {due} {currency}",
    "services_summary": "Total services: {count}, amount {amount} {currency}",
    "pay_by": "Please pay by {date}.",
    "purpose_label": "Payment reference (please quote it in your payment order):",
    "purpose": "Payment for invoice No. {number} of {date}. Amount {amount} {currency}, {tax}",
    "purpose_vat": "incl. VAT {rate} % {amount} {currency}",
    "purpose_no_vat": "VAT not applicable",
    "notes": "Notes:",
    "subtotal_net": "Subtotal excl. VAT:",
    "col_net": "Amount excl. VAT",
    "col_vat_rate": "VAT rate",
    "col_vat": "VAT",
    "col_gross": "Amount incl. VAT",
    "line_no_vat": "no VAT",
    "price_with_vat_note": "* The price includes VAT: quantity × price = amount incl. VAT; on the "
    "other lines quantity × price = amount excl. VAT.",
    "amount_paid": "Paid:",
    "paid": "The invoice is paid.",
    "paid_on": "The invoice was paid on {date}.",
    "correction_title": "Credit note No. {number} dated {date}",
    "correction_basis": "To invoice No. {number} dated {date}",
    "correction_total": "Correction amount:",
    "correction_summary": "Total items: {count}, correction amount {amount} {currency}",
    "correction_statement": "The amount of invoice No. {number} dated {date} is reduced by "
    "{amount} {currency}",
    "not_payable": "This document is not a request for payment.",
    "head": "Director",
    "accountant": "Accountant",
    "act_statement": "The services listed above have been rendered in full and on time. "
    "The Customer has no claims regarding the scope, quality or timing of the services.",
    "contractor_sign": "CONTRACTOR",
    "client_sign": "CUSTOMER",
    "signature": "signature",
    "full_name": "full name",
    "seal": "Seal",
    "recon_title": "Reconciliation Statement",
    "recon_subtitle": "for the period from {start} to {end}",
    "recon_between": "between {seller} and {buyer}",
    "recon_intro": "We, the undersigned, {seller}, on the one part, and {buyer}, on the other "
    "part, have drawn up this reconciliation statement confirming that the mutual settlements "
    "according to the records stand as follows:",
    "recon_side": "According to {name}, {currency}",
    "recon_date": "Date",
    "recon_document": "Document",
    "recon_debit": "Debit",
    "recon_credit": "Credit",
    "recon_opening": "Opening balance",
    "recon_turnover": "Turnover for the period",
    "recon_closing": "Closing balance",
    "recon_debt": "According to {seller}, as of {date} the debt in favour of {creditor} "
    "amounts to {amount} {currency} ({words}).",
    "recon_no_debt": "According to {seller}, as of {date} there is no debt.",
    "recon_from": "On behalf of {name}",
    "recon_chief_accountant": "Chief accountant",
    "recon_invoice": "Sale (invoice No. {number})",
    "recon_credit_note": "Sale correction (credit note No. {number})",
    "recon_payment": "Payment ({number})",
    "recon_refund": "Refund ({number})",
    "recon_invoice_refunded": "Sale reversed (invoice No. {number}, money returned)",
    "recon_downgrade": "Recalculation on a plan change",
    "recon_manual": "Balance adjustment",
    "recon_correction": "Correction",
}

LABELS: Final = MappingProxyType(
    {"ru": MappingProxyType(_RU), "en": MappingProxyType(_EN)},
)
