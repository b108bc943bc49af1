"""The import contracts of design.md run before the tests, and the private-name checker finds what it should."""
import re
import textwrap
from pathlib import Path

from tools.lint_private_imports import APPS, ROOT, Tree

BASE_DIR = Path(__file__).resolve().parent.parent


def write(root: Path, files: dict[str, str]) -> Tree:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return Tree(root, ("org", "consent"))


class PrivateNameCheckerTests:
    def test_it_flags_a_private_name_imported_from_another_module(self, tmp_path):
        tree = write(tmp_path, {
            "consent/__init__.py": "", "consent/views.py": "def _helper(): pass\n",
            "org/__init__.py": "", "org/views.py": "from consent.views import _helper\n",
        })
        assert tree.check() == ["org/views.py:1: from consent.views import _helper"]

    def test_it_flags_a_relative_import_of_a_sibling_modules_private_name(self, tmp_path):
        tree = write(tmp_path, {"org/__init__.py": "", "org/a.py": "_x = 1\n", "org/b.py": "from .a import _x\n"})
        assert tree.check() == ["org/b.py:1: from org.a import _x"]

    def test_it_flags_a_private_name_read_off_an_imported_module(self, tmp_path):
        tree = write(tmp_path, {
            "org/__init__.py": "", "org/a.py": "_x = 1\n",
            "consent/__init__.py": "",
            "consent/b.py": "import org.a\nfrom org import a as alias\n\ndef f():\n    return org.a._x, alias._x\n",
        })
        assert tree.check() == ["consent/b.py:5: org.a._x"]

    def test_it_allows_public_names_dunders_gettext_and_attributes_of_objects(self, tmp_path):
        tree = write(tmp_path, {
            "org/__init__.py": "__version__ = '1'\n",
            "org/models.py": "class Service:\n    _meta = None\n",
            "consent/__init__.py": "",
            "consent/b.py": """\
                from django.utils.translation import gettext as _
                from org import __version__
                from org import models
                from org.models import Service

                def f():
                    return _("x"), models.Service._meta, Service._meta
                """,
        })
        assert tree.check() == []

    def test_it_allows_a_module_its_own_private_names_and_a_package_its_private_submodules(self, tmp_path):
        tree = write(tmp_path, {
            "org/__init__.py": "from org import _impl\n", "org/_impl.py": "",
            "org/a.py": "import org.a\n_x = 1\n\ndef f():\n    return org.a._x\n",
            "org/b.py": "from . import _impl\n",
        })
        assert tree.check() == []

    def test_it_finds_no_private_import_in_our_apps(self):
        assert Tree(ROOT, APPS).check() == []


class MakeTestTests:
    def test_it_checks_the_import_contracts_before_the_tests(self):
        makefile = (BASE_DIR / "Makefile").read_text()
        assert re.search(r"^test: .*\blint\b", makefile, re.MULTILINE)
        lint = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
        assert "lint-imports" in lint and "tools/lint_private_imports.py" in lint

    def test_it_names_every_app_of_ours_a_root_package(self):
        config = (BASE_DIR / ".importlinter").read_text()
        roots = re.search(r"^root_packages =\n((?:    \S+\n)+)", config, re.MULTILINE).group(1).split()
        assert tuple(roots) == APPS
