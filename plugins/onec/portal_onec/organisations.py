"""Organisations, information bases and base users of a client account: the plugin's services.

Views (the client area, the staff tab) and the demo call these; they own the transaction and
commit. Every change the cloud must know about is queued as a provisioning command of the
service the base belongs to (``queue_provisioning``), in the same transaction: it is never lost
and never runs for a change that rolled back. The command's payload names the plugin's own
command (:data:`portal_onec.commands.COMMAND_KEY`); see :mod:`portal_onec.provisioner`.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from portal.plugin_api import (
    Client,
    Service,
    ServiceStatus,
    now,
    queue_provisioning,
    session,
    validate_requisites,
)
from portal_onec import commands
from portal_onec.models import BaseAccess, BaseState, BaseUser, InformationBase, Organisation
from portal_onec.settings import BASE, SESSIONS, configurations, product_fields


class OnecError(ValueError):
    """A change refused with a message for the user; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- organisations ----------------------------------------------------------------------------


def organisations_of(client_id: int) -> list[Organisation]:
    """The client's organisations, the primary one first."""
    return list(
        session().scalars(
            select(Organisation)
            .where(Organisation.client_id == client_id)
            .order_by(Organisation.is_primary.desc(), Organisation.name, Organisation.id)
        )
    )


def organisation_of(client_id: int, organisation_id: int) -> Organisation | None:
    """The organisation, when it belongs to the client (None otherwise: never another's)."""
    return session().scalar(
        select(Organisation).where(
            Organisation.id == organisation_id, Organisation.client_id == client_id
        )
    )


def primary_organisation(client_id: int) -> Organisation | None:
    return session().scalar(
        select(Organisation).where(
            Organisation.client_id == client_id, Organisation.is_primary.is_(True)
        )
    )


def _clean(name: str, inn: str, kpp: str) -> tuple[str, str, str]:
    name = (name or "").strip()
    if not name:
        raise OnecError(_("Enter the name of the organisation."), "name")
    try:
        inn, kpp = validate_requisites(inn=inn, kpp=kpp)
    except ValueError as error:  # RequisitesError: field and a translated message
        raise OnecError(str(error), getattr(error, "field", None)) from None
    return name, inn, kpp


def _check_unique(client_id: int, inn: str, kpp: str, exclude: int | None = None) -> None:
    query = select(Organisation.id).where(
        Organisation.client_id == client_id, Organisation.inn == inn, Organisation.kpp == kpp
    )
    if exclude is not None:
        query = query.where(Organisation.id != exclude)
    if session().scalar(query) is not None:
        raise OnecError(_("This account already has an organisation with this INN and KPP."), "inn")


def _make_primary(organisation: Organisation) -> None:
    """Move the primary flag to ``organisation`` (the old one is cleared first: the partial
    unique index allows one primary per client at any moment)."""
    session().execute(
        update(Organisation)
        .where(
            Organisation.client_id == organisation.client_id,
            Organisation.id != organisation.id,
            Organisation.is_primary.is_(True),
        )
        .values(is_primary=False)
    )
    organisation.is_primary = True


def add_organisation(
    client: Client, *, name: str, inn: str, kpp: str = "", primary: bool = False
) -> Organisation:
    """A new organisation of ``client``; the first one is primary whatever ``primary`` says.
    Raises :class:`OnecError`. Commits."""
    name, inn, kpp = _clean(name, inn, kpp)
    _check_unique(client.id, inn, kpp)
    first = primary_organisation(client.id) is None
    organisation = Organisation(
        client_id=client.id, name=name, inn=inn, kpp=kpp, is_primary=False, created_at=now()
    )
    session().add(organisation)
    session().flush()
    if first or primary:
        _make_primary(organisation)
    session().commit()
    return organisation


def update_organisation(
    organisation: Organisation, *, name: str, inn: str, kpp: str = "", primary: bool = False
) -> Organisation:
    """Change name and requisites; ``primary`` makes it the primary one (the primary one stays
    primary until another is chosen). Raises :class:`OnecError`. Commits."""
    name, inn, kpp = _clean(name, inn, kpp)
    _check_unique(organisation.client_id, inn, kpp, exclude=organisation.id)
    organisation.name, organisation.inn, organisation.kpp = name, inn, kpp
    if primary and not organisation.is_primary:
        _make_primary(organisation)
    session().commit()
    return organisation


# --- bases --------------------------------------------------------------------------------------


def bases_of(client_id: int) -> list[InformationBase]:
    """The client's bases (deleted ones too), by organisation and name."""
    return list(
        session().scalars(
            select(InformationBase)
            .join(Organisation)
            .where(Organisation.client_id == client_id)
            .order_by(Organisation.name, InformationBase.name)
        )
    )


def base_of(client_id: int, base_id: int) -> InformationBase | None:
    return session().scalar(
        select(InformationBase)
        .join(Organisation)
        .where(InformationBase.id == base_id, Organisation.client_id == client_id)
    )


def tariff_services(client_id: int) -> list[Service]:
    """The client's running services a base can be sold under: products of Module ``onec``
    that sell sessions (a tariff with N bases) or a base."""
    found = session().scalars(
        select(Service)
        .where(
            Service.client_id == client_id,
            Service.status.in_((ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)),
        )
        .order_by(Service.id)
    )
    return [
        s
        for s in found
        if s.product.module == commands.PLUGIN
        and product_fields(s.product)["kind"] in (SESSIONS, BASE)
    ]


def _bases_in_use(service: Service) -> int:
    return (
        session().scalar(
            select(func.count(InformationBase.id)).where(
                InformationBase.service_id == service.id,
                InformationBase.state != BaseState.DELETED.value,
            )
        )
        or 0
    )


def add_base(
    organisation: Organisation, *, name: str, configuration: str, service: Service
) -> InformationBase:
    """A new base of ``organisation`` under ``service`` (the client's tariff): state
    ``creating`` until the cloud confirms it (the ``create_base`` command). Refused above the
    tariff's limit of bases. Raises :class:`OnecError`. Commits."""
    name = (name or "").strip()
    if not name:
        raise OnecError(_("Enter the name of the base."), "name")
    if configuration not in configurations():
        raise OnecError(_("Choose a configuration from the list."), "configuration")
    if service.client_id != organisation.client_id or service not in tariff_services(
        organisation.client_id
    ):
        raise OnecError(_("Choose one of your 1C services."), "service")
    limit = int(product_fields(service.product)["bases_limit"] or 0)
    if limit and _bases_in_use(service) >= limit:
        raise OnecError(
            _("Your tariff allows %(limit)s bases; ask for a bigger one.", limit=limit), "service"
        )
    taken = session().scalar(
        select(InformationBase.id).where(
            InformationBase.organisation_id == organisation.id, InformationBase.name == name
        )
    )
    if taken is not None:
        raise OnecError(_("This organisation already has a base with this name."), "name")
    base = InformationBase(
        organisation_id=organisation.id,
        service_id=service.id,
        name=name,
        configuration=configuration,
        state=BaseState.CREATING.value,
        created_at=now(),
    )
    session().add(base)
    session().flush()
    queue_command(service, commands.CREATE_BASE, base=base)
    session().commit()
    return base


def delete_base(base: InformationBase) -> None:
    """Delete a base in the cloud (kept here as ``deleted`` for history). Commits."""
    if base.base_state is BaseState.DELETED:
        return
    base.state = BaseState.DELETED.value
    if base.service is not None:
        queue_command(base.service, commands.DELETE_BASE, base=base)
    session().commit()


# --- users --------------------------------------------------------------------------------------


def users_of(client_id: int) -> list[BaseUser]:
    return list(
        session().scalars(
            select(BaseUser).where(BaseUser.client_id == client_id).order_by(BaseUser.login)
        )
    )


def grant_access(base: InformationBase, *, login: str, full_name: str = "") -> BaseAccess:
    """Give the client's user ``login`` (created if new) access to ``base``; the cloud adds
    the user (``add_user``). Refused above the tariff's concurrent sessions (each user may
    open one). Raises :class:`OnecError`. Commits."""
    login = (login or "").strip()
    if not login or any(ch.isspace() for ch in login):
        raise OnecError(_("Enter a login without spaces."), "login")
    if base.base_state is BaseState.DELETED:
        raise OnecError(_("This base is deleted."))
    client_id = base.organisation.client_id
    user = session().scalar(
        select(BaseUser).where(BaseUser.client_id == client_id, BaseUser.login == login)
    )
    if user is None:
        user = BaseUser(
            client_id=client_id, login=login, full_name=(full_name or "").strip(), created_at=now()
        )
        session().add(user)
        session().flush()
    elif full_name.strip():
        user.full_name = full_name.strip()
    if any(access.base_id == base.id for access in user.accesses):
        raise OnecError(_("%(login)s already has access to this base.", login=login), "login")
    service = base.service
    if service is not None:
        limit = int(product_fields(service.product)["sessions_limit"] or 0)
        if limit and len(_users_of_service(service) | {user.id}) > limit:
            raise OnecError(
                _("Your tariff allows %(limit)s users; ask for more.", limit=limit), "login"
            )
    access = BaseAccess(base_id=base.id, user_id=user.id, created_at=now())
    session().add(access)
    session().flush()
    if service is not None:
        queue_command(service, commands.ADD_USER, base=base, user=user)
    session().commit()
    return access


def _users_of_service(service: Service) -> set[int]:
    return set(
        session().scalars(
            select(BaseAccess.user_id)
            .join(InformationBase)
            .where(
                InformationBase.service_id == service.id,
                InformationBase.state != BaseState.DELETED.value,
            )
        )
    )


def revoke_access(base: InformationBase, user: BaseUser) -> None:
    """Take ``user``'s access to ``base`` away (``remove_user`` in the cloud). Commits."""
    access = session().scalar(
        select(BaseAccess).where(BaseAccess.base_id == base.id, BaseAccess.user_id == user.id)
    )
    if access is None:
        return
    session().delete(access)
    if base.service is not None:
        queue_command(base.service, commands.REMOVE_USER, base=base, user=user)
    session().commit()


# --- commands -----------------------------------------------------------------------------------


def queue_command(
    service: Service,
    command: str,
    *,
    base: InformationBase,
    user: BaseUser | None = None,
) -> None:
    """Queue one of the plugin's own commands (``portal_onec.commands``) about ``base`` (and
    ``user``) for ``service``, e.g. ``BLOCK_BASE`` for one base used on credit. Joins."""
    queue_provisioning(
        service,
        commands.CARRIER[command],
        payload=commands.payload(command, base, user),
    )


def bases_of_service(
    service: Service, states: Sequence[BaseState] | None = None
) -> list[InformationBase]:
    query = select(InformationBase).where(InformationBase.service_id == service.id)
    if states is not None:
        query = query.where(InformationBase.state.in_([s.value for s in states]))
    return list(session().scalars(query.order_by(InformationBase.id)))


# --- merging clients ----------------------------------------------------------------------------


def move_client(source_id: int, target_id: int) -> None:
    """A merge of client ``source_id`` into ``target_id``: organisations, bases, users and their
    access follow. An organisation with the same INN/KPP as one of the target's, or a user with
    the same login, is folded into the target's (its bases, licences and access move over);
    the target's primary organisation stays primary. Joins the merge's transaction."""
    from portal_onec.models import Licence

    target_primary = primary_organisation(target_id)
    for organisation in organisations_of(source_id):
        twin = session().scalar(
            select(Organisation).where(
                Organisation.client_id == target_id,
                Organisation.inn == organisation.inn,
                Organisation.kpp == organisation.kpp,
            )
        )
        if twin is None:
            if target_primary is not None:
                organisation.is_primary = False
            session().flush()
            organisation.client_id = target_id
            continue
        session().execute(
            update(InformationBase)
            .where(InformationBase.organisation_id == organisation.id)
            .values(organisation_id=twin.id)
        )
        session().execute(
            update(Licence)
            .where(Licence.organisation_id == organisation.id)
            .values(organisation_id=twin.id)
        )
        session().delete(organisation)
    session().flush()
    for user in users_of(source_id):
        twin_user = session().scalar(
            select(BaseUser).where(BaseUser.client_id == target_id, BaseUser.login == user.login)
        )
        if twin_user is None:
            user.client_id = target_id
            continue
        held = {access.base_id for access in twin_user.accesses}
        for access in list(user.accesses):
            if access.base_id not in held:
                session().add(
                    BaseAccess(base_id=access.base_id, user_id=twin_user.id, created_at=now())
                )
        session().delete(user)
    session().flush()
