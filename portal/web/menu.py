"""Admin menu items and client-area panels: what core and plugins contribute to the shell."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: The admin top menu, in the order staff know from WHMCS (Клиенты | Заказы | Биллинг | ...).
ADMIN_SECTIONS: tuple[str, ...] = (
    "clients",
    "orders",
    "billing",
    "support",
    "reports",
    "utilities",
    "plugins",
    "settings",
)


@dataclass(frozen=True)
class MenuItem:
    """A link in an admin menu section. ``label`` is a lazy-translatable string; with a
    ``permission`` (e.g. ``"clients.view"``) the link is shown only to staff who hold it."""

    section: str
    label: str
    endpoint: str
    order: int = 100
    permission: str | None = None
    #: Arguments of the endpoint, e.g. ``(("name", "disk_usage"),)`` for a report's page.
    values: tuple[tuple[str, str], ...] = ()

    @property
    def url_values(self) -> dict[str, str]:
        return dict(self.values)

    def __post_init__(self) -> None:
        if self.section not in ADMIN_SECTIONS:
            raise ValueError(f"unknown admin section {self.section!r}; one of {ADMIN_SECTIONS}")


@dataclass(frozen=True)
class Panel:
    """A panel on the client-area dashboard; ``render`` returns HTML for the signed-in client."""

    title: str
    render: Callable[[object], str]
    order: int = 100


@dataclass(frozen=True)
class ClientCardTab:
    """A tab on the admin client card, after the core's tabs. ``name`` is its id in the URL
    (``/admin/clients/<id>/tab/<name>``), ``label`` a lazy-translatable string; ``render``
    gets the :class:`~portal.plugin_api.Client` and returns the tab's HTML (``Markup``, e.g.
    ``Markup(render_template(...))``). With a ``permission`` the tab is shown only to staff who
    hold it (besides "view clients", which every tab needs)."""

    name: str
    label: str
    render: Callable[[object], str]
    order: int = 100
    permission: str | None = None


@dataclass
class DashboardCounter:
    """A number on the admin dashboard: ``key`` (unique), a lazily translated ``label``, the
    ``endpoint`` of the list it links to, ``count()`` and the ``permission`` that list needs
    (staff without it neither see nor count it). The core's counters and the plugins'
    (``register_dashboard_counters``) are all of this type."""

    key: str
    label: str
    endpoint: str | None = None
    count: Callable[[], int] | None = None
    permission: str | None = None

    def value(self) -> int | None:
        return self.count() if self.count else None
