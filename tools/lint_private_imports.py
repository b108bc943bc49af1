"""No module imports another module's private name: the import contract import-linter cannot check.

import-linter (.importlinter) checks which module imports which; it does not look at names. This
walk does: in our apps it flags

    from consent.views import _helper          # a private name of another module
    from . import _helper                       # the same, relatively
    consent.views._helper(...)                  # a private name read off an imported module

A name is private when it starts with one underscore (dunders such as __version__ are not, nor is
`_`, the conventional alias of gettext). A module may use its own private names, and a package may
import its own private submodules (`import pkg._mod` statements are left to the private_modules
contract of .importlinter). Tests (tests/) are not subject to the contracts.

Run from anywhere: `python tools/lint_private_imports.py` (make test does). Prints one line per
violation and exits 1 when there is any.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The root packages of .importlinter: the apps of ours the import contracts cover.
APPS = ("accounts", "audit", "config", "consent", "insights", "notifications", "org", "people", "referrals", "workflows")


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name != "_"


class Tree:
    """Our source tree: which dotted names are modules of ours."""

    def __init__(self, root: Path, apps: tuple[str, ...]):
        self.root = root
        self.apps = apps

    def is_ours(self, dotted: str) -> bool:
        return dotted.split(".")[0] in self.apps

    def is_module(self, dotted: str) -> bool:
        """Whether ``dotted`` names a module or package of ours (a file on disk, not an attribute)."""
        base = self.root.joinpath(*dotted.split("."))
        return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()

    def module_name(self, path: Path) -> str:
        parts = list(path.relative_to(self.root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)

    def may_read(self, importer: str, module: str, name: str) -> bool:
        """Whether ``importer`` may use ``module.name``: any public name; a private one only in its own
        module, or when it is a private submodule of a package the importer lies in."""
        if not is_private(name) or importer == module:
            return True
        return self.is_module(f"{module}.{name}") and importer.startswith(module + ".")

    def check_file(self, path: Path) -> list[str]:
        current = self.module_name(path)
        package = current.split(".") if path.name == "__init__.py" else current.split(".")[:-1]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(self.root)
        problems = set()
        bound: dict[str, str] = {}  # a local name -> the module of ours it is bound to

        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if self.is_ours(alias.name):
                        bound[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if not self.is_ours(source):
                    continue
                for alias in node.names:
                    if not self.may_read(current, source, alias.name):
                        problems.add((node.lineno, f"from {source} import {alias.name}"))
                    elif self.is_module(f"{source}.{alias.name}"):
                        bound[alias.asname or alias.name] = f"{source}.{alias.name}"

        for node in ast.walk(tree):
            # An attribute chain rooted at a name bound to one of our modules, such as
            # consent.views._helper: the longest prefix that is a module, then the name read off it.
            if not isinstance(node, ast.Attribute):
                continue
            chain = []
            inner = node
            while isinstance(inner, ast.Attribute):
                chain.append(inner.attr)
                inner = inner.value
            if not isinstance(inner, ast.Name) or inner.id not in bound:
                continue
            module = bound[inner.id]
            for part in reversed(chain):
                if self.is_module(f"{module}.{part}"):
                    module = f"{module}.{part}"
                    continue
                if not self.may_read(current, module, part):
                    problems.add((node.lineno, f"{module}.{part}"))
                break
        return [f"{where}:{line}: {what}" for line, what in sorted(problems)]

    def check(self) -> list[str]:
        problems = []
        for app in self.apps:
            for path in sorted((self.root / app).rglob("*.py")):
                problems.extend(self.check_file(path))
        return problems


def main() -> int:
    problems = Tree(ROOT, APPS).check()
    for problem in problems:
        print(problem)
    if problems:
        print(f"\n{len(problems)} import(s) of another module's private name. Make the name public where it is "
              "legitimately shared, or move the code to the module that owns it.", file=sys.stderr)
        return 1
    print("Private names: no module imports another module's private name.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
