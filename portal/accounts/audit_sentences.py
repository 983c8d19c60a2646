"""Audit entries read as sentences in the reader's language (docs/staff-and-audit.md).

The log stores keys (``ticket.update``, ``assigned_staff_id``, ``customer_reply``) so that it can
be searched and outlives a translation; people read sentences. This module keeps the registry
that turns one into the other, filled by each area (and by plugins, through
``portal.plugin_api.register_audit_sentence``) at import time:

- an *event* maps an action key to a sentence template (``lazy_gettext`` with named
  placeholders: ``%(actor)s``, ``%(object)s``, and every field of the entry's ``after`` by name,
  its ``before`` value as ``old_<field>``). An action may also have one sentence per field it
  changed, ``"<action>:<field>"`` (``ticket.update:assigned_staff_id`` reads "assigned the
  ticket to ..."), tried before the action's own;
- a *field* maps a stored field name to its label and, optionally, to how its values read (an
  enum's labels, a staff id's name);
- an *entity* maps ``entity`` to the word for the object (``ticket`` -> "the ticket").

An unknown action still reads as a sentence ("Anna Admin changed the ticket #5"), never as the
raw key, and an unknown field as its name in words. The actor is named as stored at the time;
a staff member whose name was not stored is looked up, and reads "a deleted staff member" when
the account is gone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.models import ActorType, AuditEntry, Staff
from portal.core.extensions import db
from portal.web.formatting import audit_value, decimal_text, short_date

#: How dates look once stored as JSON text (ISO 8601).
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: A field's values for people: a mapping of stored value -> label, or a function.
ValueLabels = Mapping[Any, Any] | Callable[[Any], str]


@dataclass(frozen=True)
class FieldSpec:
    label: Any
    values: ValueLabels | None = None


_SENTENCES: dict[str, Any] = {}
_FIELDS: dict[str, FieldSpec] = {}
_ENTITIES: dict[str, Any] = {}
_SYSTEM_ACTORS: dict[str, Any] = {}

#: The verbs an unknown action's last word most often is, for the generic sentence.
_GENERIC: dict[str, Any] = {
    "create": _l("%(actor)s created %(object)s"),
    "update": _l("%(actor)s changed %(object)s"),
    "save": _l("%(actor)s changed %(object)s"),
    "delete": _l("%(actor)s deleted %(object)s"),
    "import": _l("%(actor)s imported %(object)s"),
}
_FALLBACK = _l("%(actor)s: an action on %(object)s")


def register_sentence(action: str, template: Any) -> None:
    """Say how ``action`` (or ``"<action>:<field>"``) reads; a later call replaces it, so a
    plugin may reword a core event."""
    _SENTENCES[action] = template


def register_sentences(templates: Mapping[str, Any]) -> None:
    """:func:`register_sentence` for each ``{action: template}``."""
    _SENTENCES.update(templates)


def register_fields(
    labels: Mapping[str, Any], values: ValueLabels | None = None, *, entity: str = ""
) -> None:
    """:func:`register_field` for each ``{name: label}``, all with the same ``values``."""
    for name, label in labels.items():
        register_field(name, label, values, entity=entity)


def register_field(
    name: str, label: Any, values: ValueLabels | None = None, *, entity: str = ""
) -> None:
    """Label the field ``name`` (of one ``entity`` only, if given) and optionally its values."""
    _FIELDS[f"{entity}.{name}" if entity else name] = FieldSpec(label, values)


def register_form_labels(form: type, *, entity: str = "", skip: tuple[str, ...] = ()) -> None:
    """Label the entity's fields as the form that edits them labels its inputs (one wording for
    the form and the history) and a select's values by its choices, keeping labels already
    registered for that entity."""
    for name in dir(form):
        unbound = getattr(form, name, None)
        args = getattr(unbound, "args", None)
        if name in skip or not args or not hasattr(unbound, "field_class"):
            continue
        key = f"{entity}.{name}" if entity else name
        choices = getattr(unbound, "kwargs", {}).get("choices")
        values = dict(choices) if isinstance(choices, list) and choices else None
        if key not in _FIELDS:
            _FIELDS[key] = FieldSpec(args[0], values)


def register_entity(entity: str, label: Any) -> None:
    """The word for an object of ``entity`` in a sentence, with ``%(id)s`` for its id."""
    _ENTITIES[entity] = label


def register_system_actor(prefix: str, label: Any) -> None:
    """The name of an automatic process whose stored name starts with ``prefix``
    (``billing run #3`` reads as the label followed by `` #3``)."""
    _SYSTEM_ACTORS[prefix] = label


def enum_labels(labels: Mapping[Any, Any]) -> dict[str, Any]:
    """An enum-keyed label map as the stored values (the log keeps ``enum.value``)."""
    return {getattr(key, "value", key): label for key, label in labels.items()}


def staff_name(staff_id: Any) -> str:
    """A staff id as the person's name, or "a deleted staff member"."""
    if staff_id in (None, ""):
        return _("nobody")
    try:
        member = db.session.get(Staff, int(staff_id))
    except (TypeError, ValueError):
        return str(staff_id)
    return member.full_name if member is not None else _("a deleted staff member")


def actor(entry: AuditEntry) -> str:
    """Who acted, by name."""
    if entry.actor_type is ActorType.SYSTEM:
        name = entry.actor_name or ""
        for prefix, label in _SYSTEM_ACTORS.items():
            if name.startswith(prefix):
                return f"{label}{name[len(prefix) :]}"
        return name or _("The system")
    if entry.actor_name:
        return entry.actor_name
    if entry.actor_type is ActorType.STAFF:
        return staff_name(entry.actor_id) if entry.actor_id else _("a deleted staff member")
    return _("The client")


def field_label(entity: str, name: str) -> str:
    spec = _FIELDS.get(f"{entity}.{name}") or _FIELDS.get(name)
    if spec is not None:
        return str(spec.label)
    return re.sub(r"_id$", "", name).replace("_", " ").capitalize()


def value_text(entity: str, name: str, value: Any) -> str:
    """A stored value as people read it: an enum by its label, an id by a name, else
    :func:`portal.web.formatting.audit_value` (amounts in the locale's digits)."""
    spec = _FIELDS.get(f"{entity}.{name}") or _FIELDS.get(name)
    if spec is not None and callable(spec.values):
        return spec.values(value)  # a lookup says what "none" means for it ("nobody")
    if spec is not None and spec.values is not None and value is not None:
        if isinstance(value, list):
            return ", ".join(str(spec.values.get(item, item)) for item in value) or "—"
        if value in spec.values:
            return str(spec.values[value])
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return short_date(date.fromisoformat(value))
    return audit_value(value)


def amount_text(value: Any) -> str:
    """A stored amount ("0", "500.0000") in the locale's digits with at least two decimals;
    for the fields that hold money (``register_field(..., amount_text)``)."""
    if value in (None, ""):
        return "—"
    try:
        return decimal_text(Decimal(str(value)))
    except ArithmeticError:
        return str(value)


def object_text(entry: AuditEntry) -> str:
    label = _ENTITIES.get(entry.entity)
    if label is None:
        return f"{entry.entity.replace('_', ' ')} #{entry.entity_id}"
    return str(label) % {"id": entry.entity_id}


class _Values(dict):
    """Placeholders a translation may use but the entry lacks read as a dash, not a crash."""

    def __missing__(self, key: str) -> str:
        return "—"


def sentence(entry: AuditEntry) -> str:
    """The entry as one sentence in the current locale."""
    before, after = entry.before or {}, entry.after or {}
    template = next(
        (
            _SENTENCES[f"{entry.action}:{name}"]
            for name in after
            if f"{entry.action}:{name}" in _SENTENCES
        ),
        None,
    )
    if template is None:
        template = _SENTENCES.get(entry.action)
    if template is None:
        template = _GENERIC.get(entry.action.rpartition(".")[2], _FALLBACK)
    values = _Values(actor=actor(entry), object=object_text(entry), id=entry.entity_id)
    for name, value in after.items():
        values[name] = value_text(entry.entity, name, value)
    for name, value in before.items():
        values[f"old_{name}"] = value_text(entry.entity, name, value)
    return str(template) % values


def changes(entry: AuditEntry) -> list[tuple[str, str, str, str]]:
    """(field, label, before, after) of every field the entry mentions, values as people read
    them (the stored field name stays for the page's markup)."""
    return [
        (
            name,
            field_label(entry.entity, name),
            value_text(entry.entity, name, old),
            value_text(entry.entity, name, new),
        )
        for name, old, new in entry.changes()
    ]
