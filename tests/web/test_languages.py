"""Languages: preference, switcher, browser, default; money and dates per locale."""

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask

from portal.core.extensions import db
from portal.core.settings import PROJECT_ROOT
from portal.web.formatting import money, short_date


def test_browser_language_then_default(web) -> None:
    russian = web.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert "Вход в личный кабинет" in russian.get_data(as_text=True)
    english = web.get("/login", headers={"Accept-Language": "de-DE"})
    assert "Sign in to the client area" in english.get_data(as_text=True)  # default is en here


def test_switcher_sets_the_language_and_remembers_it_for_the_client(
    client_web, client_account
) -> None:
    response = client_web.submit("/language", {"language": "ru", "next": "/"}, form_page="/")
    assert response.status_code == 302 and response.location == "/"
    assert "Выйти" in client_web.get("/").get_data(as_text=True)
    db.session.refresh(client_account)
    assert client_account.language == "ru"


def test_user_preference_beats_the_browser(app: Flask, client_account) -> None:
    client_account.language = "ru"
    db.session.commit()
    web = app.test_client()
    web.sign_in_client(client_account.email)
    page = web.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Выйти" in page


def test_switcher_refuses_unknown_language_and_foreign_next(web) -> None:
    assert web.submit("/language", {"language": "xx"}, form_page="/login").status_code == 400
    response = web.submit(
        "/language", {"language": "ru", "next": "https://evil.example"}, form_page="/login"
    )
    assert response.location == "/"


@pytest.mark.parametrize(
    ("locale", "amount", "expected"),
    [
        ("ru", Decimal("48336.005"), "48\xa0336,01\xa0₽"),
        ("en", Decimal("48336.005"), "RUB\u00a048,336.01"),
        ("en", Decimal("0.125"), "RUB\u00a00.13"),  # Babel alone would give 0.12 (half-even)
        ("ru", Decimal("-669"), "-669,00\xa0₽"),
    ],
)
def test_money_is_rounded_half_up_then_formatted_per_locale(
    app: Flask, locale: str, amount: Decimal, expected: str
) -> None:
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(locale):
        assert money(amount, "RUB").replace("\u202f", "\xa0") == expected


def test_money_refuses_floats(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(TypeError):
        money(0.1, "RUB")  # type: ignore[arg-type]


def test_dates_per_locale(app: Flask) -> None:
    from flask_babel import force_locale

    with app.test_request_context():
        with force_locale("ru"):
            assert short_date(date(2019, 2, 1)) == "01.02.2019"
        with force_locale("en"):
            assert short_date(date(2019, 2, 1)) == "2/1/19"


def _extracted(config: Path, root: Path, pot: Path) -> set[str]:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(config),
            "-k",
            "_l",
            "-o",
            str(pot),
            str(root),
        ],
        check=True,
        cwd=root,
    )
    with pot.open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def _translated(path: Path) -> set[str]:
    with path.open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id and m.string and not m.fuzzy}


def test_catalogues_are_complete(tmp_path) -> None:
    """Every message in the code and templates has a Russian and an English translation: the
    core's in the core catalogue, a shipped plugin's in its own or the core's (docs/plugins.md,
    "Translations")."""
    core = _extracted(PROJECT_ROOT / "babel.cfg", PROJECT_ROOT, tmp_path / "messages.pot")
    for locale in ("ru", "en"):
        path = PROJECT_ROOT / "portal" / "translations" / locale / "LC_MESSAGES" / "messages.po"
        core_done = _translated(path)
        missing = sorted(str(m) for m in core - core_done)
        assert not missing, f"{locale}: {len(missing)} untranslated, e.g. {missing[:5]}"
        for plugin in sorted((PROJECT_ROOT / "plugins").glob("*/babel.cfg")):
            root = plugin.parent
            (domain,) = [p.name for p in root.glob("portal_*") if (p / "__init__.py").is_file()]
            wanted = _extracted(plugin, root, tmp_path / f"{domain}.pot")
            own = root / domain / "translations" / locale / "LC_MESSAGES" / f"{domain}.po"
            missing = sorted(str(m) for m in wanted - _translated(own) - core_done)
            assert not missing, f"{domain} {locale}: {len(missing)} untranslated, {missing[:5]}"
            stray = sorted(str(m) for m in (wanted - core) & core_done & _translated(own))
            assert not stray, f"{domain}'s own strings still in the core catalogue: {stray[:5]}"


def test_form_messages_follow_each_request_language(web) -> None:
    """WTForms' own messages come from a catalogue kept per process and language
    (portal.web.i18n.wtforms_translations): each request still gets its own language."""
    russian, english = "Обязательное поле.", "This field is required."
    for accept, shown, not_shown in (
        ("ru-RU", russian, english),
        ("en", english, russian),
        ("ru", russian, english),
    ):
        page = web.submit(
            "/login", {"email": "", "password": ""}, headers={"Accept-Language": accept}
        )
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert shown in text and not_shown not in text
