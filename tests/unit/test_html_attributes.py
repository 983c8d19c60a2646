"""The faster ``html_params`` writes exactly what WTForms' own does (portal.web.html_attributes)."""

from __future__ import annotations

import pytest
from markupsafe import Markup
from wtforms import Form, PasswordField, SelectField, StringField, TextAreaField

from portal.web import html_attributes

CASES = [
    {},
    {"name": "email", "id": "email", "type": "email", "value": ""},
    {"class_": "form-control is-invalid", "for_": "x", "required": True, "readonly": False},
    {"data_confirm_text": "Sure?", "aria_described_by": "help", "data_x": 'a"b'},
    {"value": "<script>alert(\"x\")</script> & 'q'"},
    {"value": Markup('<b class="raw">kept</b>')},
    {"maxlength": 254, "min": 0, "step": 0.01, "value": None},
    {"title": "Ромашка «ООО»", "placeholder": "имя@пример.рф"},
    {"onclick": True, "z": 1, "a": 2},
]


@pytest.mark.parametrize("kwargs", CASES)
def test_the_same_attributes_as_wtforms(kwargs: dict) -> None:
    ours = html_attributes.html_params(**kwargs)
    assert isinstance(ours, Markup)
    assert ours == html_attributes.original_html_params(**kwargs)


class _Form(Form):
    email = StringField("E-mail <address>", render_kw={"data_hint": 'say "hi"'})
    password = PasswordField("Password")
    body = TextAreaField("Text")
    kind = SelectField("Kind", choices=["a", '"b"'])


def test_widgets_and_labels_render_the_same_once_installed(monkeypatch) -> None:
    import wtforms.widgets
    import wtforms.widgets.core

    def rendered() -> list[str]:
        form = _Form(data={"email": '"quoted" <x>', "body": "</textarea>", "kind": '"b"'})
        return [str(part) for field in form for part in (field(class_="c"), field.label())]

    for module in (wtforms.widgets.core, wtforms.widgets):
        monkeypatch.setattr(module, "html_params", html_attributes.original_html_params)
    for widget in (wtforms.widgets.core.Input, wtforms.widgets.core.Button):
        monkeypatch.setattr(
            widget, "html_params", staticmethod(html_attributes.original_html_params)
        )
    before = rendered()
    html_attributes.install()
    assert wtforms.widgets.core.Input.html_params is html_attributes.html_params
    assert rendered() == before
    assert 'data-hint="say &#34;hi&#34;"' in before[0]
