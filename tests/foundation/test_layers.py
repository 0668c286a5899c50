"""The import graph of the product: no cycles between packages, and each package imports only its layer's.

Every .py file of the product is parsed with ``ast`` (nothing is imported); every ``import`` and
``from ... import`` counts, including those inside functions and under ``if TYPE_CHECKING:``.
A package is a top-level directory (bot/dialogs counts as bot); app.py and settings.py count as
packages of their own.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = (
    "app",
    "settings",
    "bot",
    "cards",
    "domain",
    "intake",
    "manifest",
    "services",
    "storage",
    "vocabulary",
    "presentation",
    "sheets",
    "exports",
)
"""Scanned when present (presentation/ is being added in issue 11)."""

ALLOWED: Mapping[str, frozenset[str]] = {
    "vocabulary": frozenset({"vocabulary"}),
    "domain": frozenset({"domain", "vocabulary"}),
    "storage": frozenset({"storage", "domain"}),
    "services": frozenset({"services", "domain", "storage", "settings", "vocabulary"}),
    "cards": frozenset({"cards", "domain", "vocabulary"}),
    "presentation": frozenset({"presentation", "cards", "domain", "services", "storage", "vocabulary", "settings"}),
    "intake": frozenset({"intake", "domain", "services", "storage"}),
    "manifest": frozenset({"manifest", "vocabulary", "settings"}),
    "sheets": frozenset({"sheets", "domain", "vocabulary"}),
    "exports": frozenset({"exports", "sheets", "services", "presentation", "domain", "storage", "settings"}),
    "bot": frozenset(PRODUCT_PACKAGES) - {"manifest"},
    "settings": frozenset({"settings"}),
    "app": frozenset(PRODUCT_PACKAGES),
}
"""Which first-party packages each package may import (app.py is the composition root)."""

SDK_PACKAGES = frozenset({"botbuilder", "botframework", "msrest"})
SDK_ALLOWED_IN = frozenset({"bot", "app"})
NOT_PRODUCT = frozenset({"tests", "bench", "tools"})
"""First-party, but no product package may import them."""


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it stands, and the packages on both ends."""

    module: str  # the importing module, e.g. services.tickets
    imported: str  # the imported module, e.g. cards.alerts
    path: str  # relative to the repository root
    line: int

    @property
    def package(self) -> str:
        """The importing module's package (its top-level name)."""
        return self.module.split(".")[0]

    @property
    def imported_package(self) -> str:
        """The imported module's top-level name."""
        return self.imported.split(".")[0]

    def __str__(self) -> str:
        return f"{self.module} -> {self.imported} ({self.path}:{self.line})"


def first_party_names(root: Path = ROOT) -> frozenset[str]:
    """The top-level names that are this repository's: its packages and its top-level modules."""
    names = {path.name for path in root.iterdir() if path.is_dir() and (path / "__init__.py").is_file()}
    names |= {path.stem for path in root.glob("*.py")}
    return frozenset(names)


def product_files(root: Path = ROOT) -> Iterator[Path]:
    """Every .py file of the product packages that exist."""
    for name in PRODUCT_PACKAGES:
        module = root / f"{name}.py"
        if module.is_file():
            yield module
        package = root / name
        if package.is_dir():
            yield from sorted(package.rglob("*.py"))


def module_name(path: Path, root: Path = ROOT) -> str:
    """The dotted module name of a file (a package's __init__.py is the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _as_module(dotted: str, root: Path) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path, root: Path = ROOT) -> Iterator[Import]:
    """Every import in one file, relative imports resolved; ``from x import y`` names x.y when y is a module."""
    module = module_name(path, root)
    is_package = path.name == "__init__.py"
    where = str(path.relative_to(root))
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=where)
    statements = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    for node in sorted(statements, key=lambda statement: (statement.lineno, statement.col_offset)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, where, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "__future__":
                continue
            submodules = [
                f"{target}.{alias.name}" for alias in node.names if _as_module(f"{target}.{alias.name}", root)
            ]
            for imported in submodules or [target]:
                yield Import(module, imported, where, node.lineno)


def product_imports(root: Path = ROOT) -> list[Import]:
    """Every import statement in the product."""
    return [found for path in product_files(root) for found in imports_of(path, root)]


def package_graph(imports: list[Import], first_party: Set[str]) -> dict[str, set[str]]:
    """Package -> the other first-party packages it imports."""
    graph: dict[str, set[str]] = {}
    for found in imports:
        graph.setdefault(found.package, set())
        if found.imported_package in first_party and found.imported_package != found.package:
            graph[found.package].add(found.imported_package)
    return graph


def find_cycle(graph: Mapping[str, Set[str]]) -> list[str] | None:
    """One cycle of the directed graph as a path that ends where it starts (a -> b -> a), or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" when fully explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == "open":
                return [*path[path.index(successor) :], successor]
            if successor not in state:
                cycle = visit(successor)
                if cycle:
                    return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def cycle_report(imports: list[Import], first_party: Set[str]) -> str | None:
    """The first package cycle as ``a -> b -> a`` with the imports along it, or None."""
    cycle = find_cycle(package_graph(imports, first_party))
    if cycle is None:
        return None
    edges = set(itertools.pairwise(cycle))
    along = [found for found in imports if (found.package, found.imported_package) in edges]
    return "import cycle " + " -> ".join(cycle) + ":\n" + listed(along)


def layer_violations(imports: list[Import], first_party: Set[str]) -> list[Import]:
    """Each first-party import that the importing package's row of ALLOWED does not permit."""
    return [
        found
        for found in imports
        if found.imported_package in first_party
        and found.imported_package not in ALLOWED.get(found.package, frozenset())
    ]


def sdk_violations(imports: list[Import]) -> list[Import]:
    """Each import of the Bot Framework SDK outside bot/ and app.py."""
    return [
        found for found in imports if found.imported_package in SDK_PACKAGES and found.package not in SDK_ALLOWED_IN
    ]


def listed(problems: list[Import]) -> str:
    """One violation a line: ``module -> imported module (file:line)``."""
    return "\n".join(str(found) for found in problems)


# The product's graph


def test_there_is_no_import_cycle_between_packages() -> None:
    report = cycle_report(product_imports(), first_party_names())
    assert report is None, report


def test_each_package_imports_only_what_its_layer_allows() -> None:
    unlisted = first_party_names() - NOT_PRODUCT - set(ALLOWED)
    assert not unlisted, f"top-level packages without a row in ALLOWED (add them to PRODUCT_PACKAGES too): {unlisted}"
    problems = layer_violations(product_imports(), first_party_names())
    assert not problems, f"{len(problems)} imports break the layers (see ALLOWED):\n{listed(problems)}"


def test_the_bot_framework_sdk_is_imported_only_in_bot_and_app() -> None:
    problems = sdk_violations(product_imports())
    assert not problems, f"botbuilder, botframework and msrest belong in bot/ and app.py only:\n{listed(problems)}"


# The checker itself


def test_the_cycle_detector_finds_a_planted_cycle() -> None:
    acyclic = {"bot": {"services", "cards"}, "services": {"domain", "storage"}, "storage": {"domain"}, "domain": set()}
    assert find_cycle(acyclic) is None
    planted = {**acyclic, "domain": {"vocabulary"}, "vocabulary": {"services"}}
    cycle = find_cycle(planted)
    assert cycle == ["services", "domain", "vocabulary", "services"]
    assert find_cycle({"cards": {"cards"}}) == ["cards", "cards"]


def test_imports_inside_functions_and_relative_imports_are_seen(tmp_path: Path) -> None:
    (tmp_path / "bot" / "dialogs").mkdir(parents=True)
    (tmp_path / "bot" / "__init__.py").write_text("")
    (tmp_path / "bot" / "turn.py").write_text("")
    (tmp_path / "bot" / "dialogs" / "__init__.py").write_text("")
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "__init__.py").write_text("")
    (tmp_path / "cards" / "help.py").write_text("")
    wizard = tmp_path / "bot" / "dialogs" / "wizard.py"
    wizard.write_text("from .. import turn\n\ndef later():\n    from cards import help\n    import manifest.build\n")
    found = [str(item) for item in imports_of(wizard, tmp_path)]
    assert found == [
        "bot.dialogs.wizard -> bot.turn (bot/dialogs/wizard.py:1)",
        "bot.dialogs.wizard -> cards.help (bot/dialogs/wizard.py:4)",
        "bot.dialogs.wizard -> manifest.build (bot/dialogs/wizard.py:5)",
    ]
    problems = layer_violations(list(imports_of(wizard, tmp_path)), {"bot", "cards", "manifest"})
    assert listed(problems) == "bot.dialogs.wizard -> manifest.build (bot/dialogs/wizard.py:5)"

    (tmp_path / "cards" / "help.py").write_text("import os\nfrom bot.turn import reply\n")
    imports = [*imports_of(wizard, tmp_path), *imports_of(tmp_path / "cards" / "help.py", tmp_path)]
    assert cycle_report(imports, {"bot", "cards", "manifest"}) == (
        "import cycle bot -> cards -> bot:\n"
        "bot.dialogs.wizard -> cards.help (bot/dialogs/wizard.py:4)\n"
        "cards.help -> bot.turn (cards/help.py:2)"
    )
