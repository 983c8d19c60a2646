"""The one build step setup.cfg cannot declare: what a wheel needs beyond the package's files.

The checkout keeps ``migrations/``, ``themes/`` and ``config/`` at the top level, and the
``.mo`` catalogues are compiled, not committed. A wheel must run outside the checkout, so
``build_py`` copies those folders into ``portal/_data/`` (``portal.core.settings.data_dir`` looks
there first) and compiles every ``.po`` into its ``.mo`` beside it. An editable install (the
Makefile's) keeps using the checkout's folders and ``make translations``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Top-level folders of the checkout that an installed portal reads (see data_dir()).
DATA_FOLDERS = ("migrations", "themes", "config")
TRANSLATIONS = Path("portal", "translations")


def compile_catalogues(source: Path, target: Path) -> None:
    """``pybabel compile`` for every catalogue under ``source``, written under ``target``."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        mo = target / po.relative_to(source).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as fh:
            write_mo(fh, catalog)  # fuzzy entries left out, as pybabel compile does


class BuildWithData(build_py):
    """``build_py`` plus the checkout's data folders and the compiled catalogues."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # the checkout's own folders are used in place
            return
        package = Path(self.build_lib, "portal")
        shutil.rmtree(package / "_data", ignore_errors=True)  # nothing left from an older build
        for name in DATA_FOLDERS:
            shutil.copytree(
                ROOT / name,
                package / "_data" / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        compile_catalogues(ROOT / TRANSLATIONS, Path(self.build_lib, TRANSLATIONS))


setup(cmdclass={"build_py": BuildWithData})
