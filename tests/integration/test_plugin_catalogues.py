"""A plugin's strings come from its own catalogue (portal_x/translations/<lang>/LC_MESSAGES/
portal_x.po), merged over the core's for the apps that load the plugin, and only for them."""

import sys
import textwrap
import types

from flask import Flask, render_template_string
from flask_babel import force_locale, gettext, lazy_gettext

PO = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Language: {lang}\\n"

msgid "Gizmo quota"
msgstr "{quota}"

msgid "Save"
msgstr "{save}"
"""


def _plugin(tmp_path, monkeypatch) -> types.ModuleType:
    package = tmp_path / "portal_gizmo"
    for lang, quota, save in (("ru", "Квота гизмо", "Записать"), ("en", "Gizmo quota", "Save")):
        folder = package / "translations" / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "portal_gizmo.po").write_text(PO.format(lang=lang, quota=quota, save=save))
    (package / "__init__.py").write_text(textwrap.dedent('"""A plugin with a catalogue."""\n'))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "portal_gizmo", raising=False)
    import portal_gizmo

    return portal_gizmo


def test_plugin_strings_come_from_the_plugins_catalogue(
    app: Flask, make_app, tmp_path, monkeypatch
):
    plugin = _plugin(tmp_path, monkeypatch)
    with_plugin = make_app(extra_plugins=(plugin,))
    with with_plugin.test_request_context("/"), force_locale("ru"):
        assert gettext("Gizmo quota") == "Квота гизмо"
        assert str(lazy_gettext("Gizmo quota")) == "Квота гизмо"
        assert render_template_string("{{ _('Gizmo quota') }}") == "Квота гизмо"
        assert gettext("Save") == "Записать"  # the plugin's own wording wins for its app
        assert gettext("Invoices") == "Счета"  # the core's catalogue is still there
    with app.test_request_context("/"), force_locale("ru"):
        assert gettext("Gizmo quota") == "Gizmo quota"  # an app without the plugin
        assert gettext("Save") == "Сохранить"


def test_the_shipped_plugins_have_their_own_catalogues(app: Flask) -> None:
    from portal.web.plugin_catalogues import catalogue_dir, load_catalogue

    for package, msgid in (
        ("portal_onec", "Organisations"),
        ("portal_diskspace", "Account: %(account)s"),
    ):
        directory = catalogue_dir(package)
        assert directory is not None, package
        catalogue = load_catalogue(directory, "ru", package)
        assert catalogue is not None and catalogue.gettext(msgid) != msgid, (package, msgid)
