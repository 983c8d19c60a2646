"""portal.billing is a pure library: stdlib, Babel and dateutil only, nothing from the app."""

import ast
import sys
from pathlib import Path

import portal.billing as billing

PACKAGE = Path(billing.__file__).parent
ALLOWED_THIRD_PARTY = {"babel", "dateutil"}


def _imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: use absolute imports"
            yield node.module


def test_imports_only_stdlib_babel_dateutil_and_itself():
    for path in sorted(PACKAGE.glob("*.py")):
        for module in _imported_modules(path):
            top = module.split(".")[0]
            if top == "portal":
                assert module.startswith("portal.billing"), f"{path.name} imports {module}"
            else:
                assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, (
                    f"{path.name} imports {module}"
                )


def test_public_api_is_exported():
    assert len(set(billing.__all__)) == len(billing.__all__)
    for name in billing.__all__:
        assert getattr(billing, name) is not None
    for name in (
        "prorate",
        "quote_change",
        "next_due",
        "Cycle",
        "DayCount",
        "Period",
        "allocate",
        "draft_invoice",
        "resolve_tax_rate",
        "PriceList",
        "BillingError",
    ):
        assert name in billing.__all__


def test_no_today_anywhere():
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for forbidden in ("date.today", "datetime.now", "datetime.utcnow", "time.time("):
            assert forbidden not in text, f"{path.name} uses {forbidden}"
