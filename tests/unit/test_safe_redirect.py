import pytest

from portal.web.safe_redirect import is_safe_next


@pytest.mark.parametrize("target", ["/", "/admin/clients?page=2", "/invoices/5#pay"])
def test_local_paths_are_followed(target: str) -> None:
    assert is_safe_next(target)


@pytest.mark.parametrize(
    "target",
    [
        "",
        None,
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\\/evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/ok\r\nLocation: https://evil.example",
    ],
)
def test_foreign_or_tricky_targets_are_refused(target: str | None) -> None:
    assert not is_safe_next(target)
