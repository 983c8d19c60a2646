"""Event hooks are called through pluggy: ``tryfirst``, plain (the last registered first) and
``trylast`` implementations run in that order inside the wrappers (new-style ``wrapper=True``
and old-style ``hookwrapper=True``); each implementation is isolated in a savepoint, and a hook
renamed in a release still reaches plugins that implement its old name, with a warning."""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

import pytest
from pluggy import HookCallError, Result
from sqlalchemy import select

from portal import hookimpl
from portal.accounts.models import Note
from portal.core.extensions import db
from portal.platform.hooks import events, specs
from portal.platform.hooks.manager import HookDeprecationWarning, build_plugin_manager
from portal.platform.hooks.specs import RenamedHook
from portal.platform.reports import Report
from portal.testing.factories import make_client

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Recorder:
    """A plugin whose ``client_created`` appends its name to ``calls``; it writes a note for
    the client and then raises when ``fails``."""

    def __init__(self, name: str, calls: list[str], fails: bool = False) -> None:
        self.name, self.calls, self.fails = name, calls, fails

    def record(self, client: Any) -> None:
        self.calls.append(self.name)
        db.session.add(Note(client_id=client.id, body=f"{self.name} was here", created_at=NOW))
        db.session.flush()
        if self.fails:
            raise RuntimeError(f"{self.name} has a bug")


def recorder(name: str, calls: list[str], fails: bool = False, **opts: bool) -> object:
    """A plugin object of its own class (named ``name``) implementing ``client_created``."""

    def client_created(self: Recorder, client: Any) -> None:
        self.record(client)

    cls = type(name, (Recorder,), {"client_created": hookimpl(**opts)(client_created)})
    return cls(name, calls, fails)


class NewWrapper:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls
        self.saw: list[Any] = []

    @hookimpl(wrapper=True)
    def client_created(self, client: Any) -> Generator[None, list[Any], list[Any]]:
        self.calls.append("new wrapper: before")
        results = yield
        self.saw = results
        self.calls.append("new wrapper: after")
        return results


class OldWrapper:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    @hookimpl(hookwrapper=True)
    def client_created(self, client: Any) -> Generator[None, Result[Any], None]:
        self.calls.append("old wrapper: before")
        outcome = yield
        outcome.get_result()
        self.calls.append("old wrapper: after")


def notes() -> list[str]:
    return sorted(db.session.scalars(select(Note.body)))


def test_tryfirst_plain_trylast_run_in_that_order_inside_the_wrappers(
    app, clock, register_plugin
) -> None:
    client = make_client(clock)
    calls: list[str] = []
    register_plugin(recorder("Last", calls, trylast=True))
    register_plugin(recorder("First", calls, tryfirst=True))
    register_plugin(recorder("EarlierPlain", calls))
    register_plugin(OldWrapper(calls))
    register_plugin(recorder("LaterPlain", calls))
    new_wrapper = register_plugin(NewWrapper(calls))

    failed = events.fire("client_created", client=client)

    assert failed == []
    assert calls == [
        "new wrapper: before",  # the wrapper registered last is the outermost
        "old wrapper: before",
        "First",
        "LaterPlain",  # plain ones: the last registered first, as pluggy documents
        "EarlierPlain",
        "Last",
        "old wrapper: after",
        "new wrapper: after",
    ]
    assert new_wrapper.saw == []  # events return nothing but failures
    assert len(notes()) == 4


def test_a_failing_plugin_is_rolled_back_alone_and_the_next_is_still_told(
    app, clock, register_plugin, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(clock)
    calls: list[str] = []
    register_plugin(recorder("After", calls))
    register_plugin(recorder("Broken", calls, fails=True))
    register_plugin(recorder("Before", calls))
    wrapper = register_plugin(NewWrapper(calls))
    db.session.add(Note(client_id=client.id, body="the caller's change", created_at=NOW))

    failed = events.fire("client_created", client=client)
    db.session.commit()

    assert failed == ["Broken"]
    assert calls == ["new wrapper: before", "Before", "Broken", "After", "new wrapper: after"]
    assert wrapper.saw == [events.PluginFailure("Broken")]
    assert notes() == ["After was here", "Before was here", "the caller's change"]
    assert "plugin Broken failed in event client_created" in caplog.text
    assert "Broken has a bug" in caplog.text


class FailingWrapper:
    @hookimpl(wrapper=True)
    def client_created(self, client: Any) -> Generator[None, list[Any], list[Any]]:
        yield
        raise RuntimeError("the wrapper has a bug")


def test_a_failing_wrapper_rolls_back_the_event_but_not_the_change(
    app, clock, register_plugin, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(clock)
    calls: list[str] = []
    register_plugin(recorder("Inner", calls))
    register_plugin(FailingWrapper())
    register_plugin(NewWrapper(calls))  # outside the failing one: sees its exception pass
    db.session.add(Note(client_id=client.id, body="the caller's change", created_at=NOW))

    failed = events.fire("client_created", client=client)
    db.session.commit()

    assert failed == ["FailingWrapper"]
    assert calls == ["new wrapper: before", "Inner"]  # the outer wrapper did not swallow it
    assert notes() == ["the caller's change"]  # what the wrapped plugins wrote went with it
    assert "plugin FailingWrapper failed in event client_created" in caplog.text


def test_the_core_s_own_errors_are_not_swallowed(app, clock, register_plugin) -> None:
    register_plugin(NewWrapper([]))
    with pytest.warns(UserWarning, match="'client'"), pytest.raises(HookCallError):
        events.fire("client_created")  # a core bug: the argument is missing


# --- renamed hooks ------------------------------------------------------------------------------


class OldNames:
    """Implements hooks under names they had before a (pretend) rename."""

    def __init__(self) -> None:
        self.told: list[int] = []

    @hookimpl
    def client_signed_up(self, client: Any) -> None:
        self.told.append(client.id)
        raise RuntimeError("still isolated under its old name")

    @hookimpl
    def register_report_pages(self) -> list[Report]:
        return [Report()]


@pytest.fixture
def renamed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        specs.RENAMED_HOOKS, "client_signed_up", RenamedHook("client_created", "0.3")
    )
    monkeypatch.setitem(
        specs.RENAMED_HOOKS, "register_report_pages", RenamedHook("register_reports", "0.4")
    )


def test_an_old_event_name_still_works_isolated_and_warns(
    renamed, app, clock, register_plugin, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(clock)
    with pytest.warns(HookDeprecationWarning) as warned:
        plugin = register_plugin(OldNames())
    messages = sorted(str(w.message) for w in warned)
    assert messages == [
        "plugin OldNames implements the hook client_signed_up, renamed client_created: it is "
        "called as client_created until release 0.3, which drops the old name; rename the "
        "implementation (docs/hooks.md)",
        "plugin OldNames implements the hook register_report_pages, renamed register_reports: "
        "it is called as register_reports until release 0.4, which drops the old name; "
        "rename the implementation (docs/hooks.md)",
    ]
    assert all(w.filename == __file__ for w in warned)  # points at the implementation
    assert "renamed client_created" in caplog.text  # staff see it in the log too

    assert events.fire("client_created", client=client) == ["OldNames"]
    assert plugin.told == [client.id]


def test_an_old_registry_name_still_works_and_warns_with_the_entry_point_name(renamed) -> None:
    with pytest.warns(HookDeprecationWarning, match="plugin OldNames implements"):
        plugins = build_plugin_manager([], extra=(OldNames(),))
    assert [type(r) for r in plugins.collect("register_reports")] == [Report]
    assert not hasattr(plugins.hook, "register_report_pages")


def test_a_current_name_does_not_warn(renamed, recwarn: pytest.WarningsRecorder) -> None:
    plugins = build_plugin_manager([], extra=(NewWrapper([]),))
    assert not [w for w in recwarn if issubclass(w.category, HookDeprecationWarning)]
    assert plugins.pm.get_plugins()
