"""The package's shape (`docs/architecture.md`, STYLE.md "The layout we grow into"), read from
the source files' syntax, so these checks import neither the package nor TensorFlow.

The rules, each a test on the package and each tested on small synthetic packages:

1. **Imports go down the levels.** Every package has a level (`LEVELS`, low to high):
   errors/registry/keras_compat, config, runs, data, models, training, evaluation and serving,
   jobs, the API (pipeline, tuning, api, `lstm_app`'s `__init__`), the command line. A module
   imports its own package and lower levels only: never a higher level, never a sibling of its
   own level (evaluation and serving do not import each other). A module that no entry of
   `LEVELS` names fails too, so a new package must be placed. There is no inferred exception
   (a module is not allowed upward because it imports no TensorFlow): the only exceptions are
   the named pairs of `ALLOWED_UPWARD`, each with its reason, and it is empty.
2. **No import cycle** among the package's modules, those of one package included: a cycle is a
   cycle (`a` and `b` of `lstm_app.data` importing each other still load half-initialised).
   A package's `__init__` is a module of its own (`lstm_app.config`), so a submodule importing
   its package's `__init__`, which imports the submodule, is a cycle. Each knot of modules
   that reach each other is reported by one shortest cycle through it, `a -> b -> a`.
3. **No module over `MAX_LINES` lines**: past that, a module holds two concerns.
4. **`lstm_app` never imports `experiments/`**, the studies that use the package.
5. **No module or package is named like a lazy API name** (`lstm_app._API`), and after every
   module is imported the API names are still the API functions.

What counts as an import, for rules 1, 2 and 4: every `import` and `from ... import` statement,
those inside functions included (they run when called, and a lazy import is still a
dependency), relative ones resolved against their package. Only the body of
`if TYPE_CHECKING:` is skipped: it never runs (names for annotations only). `from a import b`
names the module `a.b` when that is a module of the package, else `a` (`from lstm_app.config
import Config` names the `__init__` of `lstm_app.config`). An import names one module: the
packages above it, which Python initialises first, are not edges of their own. Imports by
string (`importlib.import_module`, `registry.load_object("keras.layers.LSTM")`) are not seen.
"""

import ast
import importlib
import inspect
import itertools
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import lstm_app

PACKAGE = Path(lstm_app.__file__).resolve().parent

# (level, package, module prefixes), low to high. A module belongs to the entry with the
# longest prefix that names it or a package above it; "lstm_app" alone is the `__init__`
# only, so a new module outside every entry is reported as having no level. Entries of one
# level with different package names are siblings and must not import each other; the modules
# of one entry import each other freely (rule 2 still forbids their cycles).
LEVELS = (
    (
        0,
        "bottom",
        ("lstm_app.errors", "lstm_app.registry", "lstm_app.keras_compat", "lstm_app.version"),
    ),
    (1, "config", ("lstm_app.config",)),
    (2, "runs", ("lstm_app.runs",)),
    (3, "data", ("lstm_app.data",)),
    (4, "models", ("lstm_app.models",)),
    (5, "training", ("lstm_app.training",)),
    (6, "evaluation", ("lstm_app.evaluation",)),
    (6, "serving", ("lstm_app.serving",)),
    (7, "jobs", ("lstm_app.jobs",)),
    (8, "api", ("lstm_app.pipeline", "lstm_app.tuning", "lstm_app.api", "lstm_app")),
    (9, "cli", ("lstm_app.cli", "lstm_app.__main__")),
)

# The exceptions to rule 1: {(importing module, imported module): why it must stay}, for an
# upward or sibling import that is there on purpose. Empty, and it should stay so: the config
# names its choices itself (`lstm_app/config/choices.py`) and imports nothing above level 0.
# An entry whose import no longer happens is reported, so none outlives its reason.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}

MAX_LINES = 500


@dataclass(frozen=True)
class Import:
    """One import statement's target: the module it names, resolved, and its line."""

    target: str  # the absolute module name, e.g. "lstm_app.data.prepare" or "numpy"
    line: int


@dataclass(frozen=True)
class Module:
    """One module of the package: its name, its file, its length and every import it makes."""

    name: str  # e.g. "lstm_app.data.prepare"; a package is named by its `__init__.py`
    path: str  # e.g. "lstm_app/data/prepare.py", as the reports show it
    lines: int
    imports: tuple[Import, ...]


def module_name(path: Path, root: Path) -> str:
    """The dotted name of the module in `path`, for a package directory `root`."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_type_checking(node: ast.AST) -> bool:
    """Whether `node` is `if TYPE_CHECKING:`, whose body never runs (imports for annotations)."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def resolve_from(node: ast.ImportFrom, package: str) -> str:
    """The absolute module that `from <module> import ...` reads, in a module of `package`."""
    if not node.level:
        return node.module
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


def collect_imports(tree: ast.Module, name: str, is_package: bool, known: set[str]):
    """Every import in `tree` (of module `name`), inside functions too, except the body of
    `if TYPE_CHECKING:`; `from a import b` names `a.b` when that is a module in `known`."""
    package = name if is_package else name.rpartition(".")[0]
    found = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = resolve_from(node, package)
            for alias in node.names:
                child = f"{source}.{alias.name}"
                found.append(Import(child if child in known else source, node.lineno))
        for child in ast.iter_child_nodes(node):
            if not (is_type_checking(node) and child in node.body):
                visit(child)

    visit(tree)
    return tuple(dict.fromkeys(found))


def read_package(root: Path) -> dict[str, Module]:
    """Every module of the package in directory `root`, by name, with its imports."""
    paths = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    known = {module_name(p, root) for p in paths}
    modules = {}
    for path in paths:
        name, source = module_name(path, root), path.read_text(encoding="utf-8")
        imports = collect_imports(ast.parse(source), name, path.name == "__init__.py", known)
        relative = path.relative_to(root.parent).as_posix()
        modules[name] = Module(name, relative, len(source.splitlines()), imports)
    return modules


def placement(name: str) -> tuple[int, str] | None:
    """The (level, package) of module `name` from `LEVELS`, or None when it has none."""
    best, best_length = None, -1
    for level, package, prefixes in LEVELS:
        for prefix in prefixes:
            names_it = name == prefix or (prefix != "lstm_app" and name.startswith(prefix + "."))
            if names_it and len(prefix) > best_length:
                best, best_length = (level, package), len(prefix)
    return best


def in_package(target: str) -> bool:
    """Whether the imported module `target` is `lstm_app` or one of its modules."""
    return target.split(".")[0] == "lstm_app"


def level_violations(modules: dict[str, Module], allowed=ALLOWED_UPWARD) -> list[str]:
    """Every import that breaks the levels, one line each, `lstm_app/x/y.py:LINE imports
    lstm_app.z (x, level A -> z, level B: upward)` (or `: a sibling`), except the pairs in
    `allowed`; every module with no level; every pair in `allowed` that breaks nothing."""
    found, excused = [], set()
    for module in modules.values():
        own = placement(module.name)
        if own is None:
            found.append(f"{module.path}: {module.name} has no level in LEVELS")
            continue
        for imp in module.imports:
            theirs = placement(imp.target) if in_package(imp.target) else None
            if theirs is None or theirs[0] < own[0] or theirs == own:
                continue  # not ours, a module without a level (reported itself), or allowed
            if (module.name, imp.target) in allowed:
                excused.add((module.name, imp.target))
                continue
            kind = "upward" if theirs[0] > own[0] else "a sibling"
            found.append(
                f"{module.path}:{imp.line} imports {imp.target} "
                f"({own[1]}, level {own[0]} -> {theirs[1]}, level {theirs[0]}: {kind})"
            )
    return found + [
        f"ALLOWED_UPWARD: {a} -> {b} is no upward or sibling import any more: remove it"
        for a, b in allowed
        if (a, b) not in excused
    ]


def import_graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (itself left out)."""
    return {
        name: {imp.target for imp in module.imports if imp.target in modules} - {name}
        for name, module in modules.items()
    }


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every node reached from `start` by one edge or more (`start` only through a cycle)."""
    seen, todo = set(), [start]
    while todo:
        for node in graph[todo.pop()] - seen:
            seen.add(node)
            todo.append(node)
    return seen


def knots(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of `graph` with more than one node: the sets of
    modules that all reach each other, sorted by their first name."""
    reach = {node: reachable(graph, node) for node in graph}
    found = []
    for node in sorted(graph):
        knot = {other for other in reach[node] if node in reach[other]}
        if len(knot) > 1 and not any(node in seen for seen in found):
            found.append(knot)
    return found


def shortest_cycle(graph: dict[str, set[str]], knot: set[str]) -> list[str]:
    """A shortest cycle inside `knot` through its first name, as a path that ends where it
    starts: `[a, b, c, a]`."""
    start = min(knot)
    paths, queue = {start: [start]}, [start]
    for node in queue:  # breadth first: `queue` grows as the loop goes
        for after in sorted(graph[node] & knot):
            if after == start:
                return paths[node] + [start]
            if after not in paths:
                paths[after] = paths[node] + [after]
                queue.append(after)
    raise AssertionError(f"no cycle through {start} in {sorted(knot)}")


def cycles(modules: dict[str, Module]) -> list[str]:
    """One report per knot of modules that import each other: `cycle: a -> b -> a`, then the
    import that makes each step, one indented line each; the knot's other modules are named
    when the cycle shown does not pass through them all."""
    graph = import_graph(modules)
    found = []
    for knot in knots(graph):
        cycle = shortest_cycle(graph, knot)
        others = sorted(knot - set(cycle))
        tail = f" (also importing each other with these: {', '.join(others)})" if others else ""
        steps = [
            f"\n  {modules[a].path}:{min(i.line for i in modules[a].imports if i.target == b)}"
            f" imports {b}"
            for a, b in itertools.pairwise(cycle)
        ]
        found.append("cycle: " + " -> ".join(cycle) + tail + "".join(steps))
    return found


def long_modules(modules: dict[str, Module], limit: int = MAX_LINES) -> list[str]:
    """Every module over `limit` lines: `lstm_app/x.py: 612 lines (over 500)`."""
    return [
        f"{module.path}: {module.lines} lines (over {limit})"
        for module in modules.values()
        if module.lines > limit
    ]


def experiment_imports(modules: dict[str, Module]) -> list[str]:
    """Every import of `experiments` (the studies outside the package), one line each."""
    return [
        f"{module.path}:{imp.line} imports {imp.target} (experiments/ is outside the package)"
        for module in modules.values()
        for imp in module.imports
        if imp.target.split(".")[0] == "experiments"
    ]


def check(root: Path, allowed=ALLOWED_UPWARD) -> list[str]:
    """Every report of rules 1 to 4 for the package in directory `root`."""
    modules = read_package(root)
    return (
        level_violations(modules, allowed)
        + cycles(modules)
        + long_modules(modules)
        + experiment_imports(modules)
    )


def fail_with(found: list[str], what: str) -> None:
    """Fail the test with `what` and one line per report, when there are any."""
    if found:
        pytest.fail(f"{len(found)} {what}:\n" + "\n".join(found), pytrace=False)


# --- the rules, on the package ---------------------------------------------------------------


def test_imports_go_down_the_levels_only():
    fail_with(
        level_violations(read_package(PACKAGE)),
        "import(s) break the levels of docs/architecture.md (a module imports its own package "
        "and lower levels only; the same level is a sibling package; every module has a level)",
    )


def test_the_package_has_no_import_cycle():
    fail_with(
        cycles(read_package(PACKAGE)),
        "import cycle(s) in lstm_app (imports inside functions and inside one package count)",
    )


def test_no_module_is_over_the_line_limit():
    fail_with(
        long_modules(read_package(PACKAGE)),
        f"module(s) over {MAX_LINES} lines (STYLE.md: past that a module holds two concerns)",
    )


def unnamed_modules(root: Path, doc: str) -> list[str]:
    """The modules of the package at `root` (not a package's `__init__`) whose file name is
    in no backquoted name of `doc`, e.g. `gate_cell`, `data/feed.py` or (`space`, `trial`)."""
    words = set()
    for quoted in re.findall(r"`([^`]+)`", doc):
        words.update(re.split(r"[\s,/().]+", quoted))
    return [
        path.relative_to(root.parent).as_posix()
        for path in sorted(root.rglob("*.py"))
        if path.name != "__init__.py" and "__pycache__" not in path.parts and path.stem not in words
    ]


def test_the_architecture_doc_names_every_module(tmp_path):
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = unnamed_modules(PACKAGE, doc)
    assert not missing, "docs/architecture.md names no module of these files:\n" + "\n".join(
        missing
    )
    # the check itself: a module the doc does not name is reported, a named one is not
    (tmp_path / "lstm_app" / "data").mkdir(parents=True)
    for name in ("named.py", "unnamed.py", "__init__.py"):
        (tmp_path / "lstm_app" / "data" / name).write_text("", encoding="utf-8")
    assert unnamed_modules(tmp_path / "lstm_app", "| `data/` | `named`, `other` |") == [
        "lstm_app/data/unnamed.py"
    ]


def test_the_package_never_imports_the_experiments():
    fail_with(experiment_imports(read_package(PACKAGE)), "import(s) of experiments/")


def test_no_module_is_named_like_a_lazy_api_name():
    """`lstm_app.<name>` is a lazy API function until a submodule of that name is imported,
    which then shadows it: no module, package or directory may take an API name."""
    assert len(lstm_app._API) > 0
    found = [
        path.relative_to(PACKAGE.parent).as_posix()
        for path in sorted(PACKAGE.rglob("*"))
        if "__pycache__" not in path.parts
        and (path.is_dir() or path.suffix == ".py")
        and (path.stem if path.suffix == ".py" else path.name) in lstm_app._API
    ]
    assert not found, "named like a name of lstm_app._API:\n" + "\n".join(found)


def test_api_names_stay_the_api_functions_after_every_module_is_imported():
    failed = []
    names = [
        info.name
        for info in pkgutil.walk_packages(lstm_app.__path__, "lstm_app.", onerror=failed.append)
        if info.name != "lstm_app.__main__"  # importing it runs lstm-train
    ]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:
            failed.append(f"{name} ({type(error).__name__}: {error})")
    assert not failed, "these modules of lstm_app fail to import:\n" + "\n".join(failed)

    api = importlib.import_module("lstm_app.api")
    wrong = []
    for name in lstm_app._API:
        found = getattr(lstm_app, name)
        if found is not getattr(api, name) or not (
            inspect.isfunction(found) or inspect.isclass(found)
        ):
            wrong.append(f"lstm_app.{name} is {found!r}")
    assert not wrong, "after importing every module of lstm_app:\n" + "\n".join(wrong)


# --- the checker, on synthetic packages ------------------------------------------------------

# A package that keeps every rule, one or more modules per entry of LEVELS. Each package has
# a module that nothing imports (`LEAVES`), so an import added to it can break the levels but
# cannot close a cycle. It also holds what the rules allow: imports of the own package, of
# lower levels, relative and lazy ones, an upward one under TYPE_CHECKING (were it counted, it
# would break the levels and close a cycle), `from a import b` of a submodule, and a module of
# exactly MAX_LINES lines.
CLEAN = {
    "__init__.py": "def __getattr__(name):\n    from lstm_app import api\n\n    return api\n",
    "__main__.py": "from lstm_app.cli import main\n",
    "errors.py": "class Error(Exception):\n    pass\n",
    "registry.py": "from lstm_app.errors import Error\n",
    "keras_compat.py": "import keras\n\nfrom lstm_app import errors\n",
    "config/__init__.py": "from .schema import Config\n",
    "config/choices.py": "from lstm_app.registry import Registry\n",
    "config/schema.py": (
        "from typing import TYPE_CHECKING\n"
        "from lstm_app.config.choices import CHOICES\n"
        "if TYPE_CHECKING:\n"
        "    from lstm_app.serving.spec import Spec\n"
    ),
    "config/load.py": "from lstm_app.config import Config\n",
    "runs/__init__.py": "",
    "runs/rundir.py": "from lstm_app.config import Config\n",
    "runs/lifecycle.py": "from lstm_app.runs.rundir import RunDir\n",
    "data/__init__.py": "",
    "data/io.py": "import numpy\n\nfrom ..runs import rundir\n",
    "data/windows.py": "from . import io\n",
    "models/__init__.py": "",
    "models/layers.py": "import keras\n\nfrom lstm_app.data import io\n",
    "models/build.py": "from lstm_app.models import layers\n",
    "training/__init__.py": "",
    "training/fit.py": "def fit(model):\n    from lstm_app.models import layers\n",
    "training/resume.py": "from lstm_app.training.fit import fit\n",
    "evaluation/__init__.py": "",
    "evaluation/metrics.py": "from lstm_app.training import fit\n" + "\n" * (MAX_LINES - 1),
    "evaluation/report.py": "from .metrics import mae\n",
    "serving/__init__.py": "",
    "serving/spec.py": "from lstm_app.training.fit import fit\n",
    "serving/predict.py": "from lstm_app.serving.spec import Spec\n",
    "jobs/__init__.py": "",
    "jobs/series.py": (
        "from lstm_app.evaluation import metrics\nfrom lstm_app.serving import spec\n"
    ),
    "jobs/panel.py": "from lstm_app.jobs.series import run\n",
    "pipeline.py": "from lstm_app.jobs import series\n",
    "api.py": "from lstm_app import pipeline\n",
    "tuning.py": "from lstm_app import pipeline\n",
    "cli/__init__.py": "",
    "cli/main.py": "from lstm_app import api\n",
}

# the module of CLEAN that nothing imports, for each package of LEVELS
LEAVES = {
    "bottom": "keras_compat.py",
    "config": "config/load.py",
    "runs": "runs/lifecycle.py",
    "data": "data/windows.py",
    "models": "models/build.py",
    "training": "training/resume.py",
    "evaluation": "evaluation/report.py",
    "serving": "serving/predict.py",
    "jobs": "jobs/panel.py",
    "api": "tuning.py",
    "cli": "__main__.py",
}


def write_package(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (path in the package -> source) as the package `root/lstm_app`."""
    for relative, source in files.items():
        path = root / "lstm_app" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root / "lstm_app"


def next_level_up_cases() -> list:
    """For every level with one above it: its first package's leaf imports the next level's
    first package's leaf, appended as the leaf's last line; the one report expected."""
    firsts = {}
    for level, package, _ in LEVELS:
        firsts.setdefault(level, package)
    levels = sorted(firsts)
    cases = []
    for low, high in itertools.pairwise(levels):
        leaf, target = (
            LEAVES[firsts[low]],
            module_name(Path("lstm_app", LEAVES[firsts[high]]), Path("lstm_app")),
        )
        line = CLEAN[leaf].count("\n") + 1
        expected = (
            f"lstm_app/{leaf}:{line} imports {target} "
            f"({firsts[low]}, level {low} -> {firsts[high]}, level {high}: upward)"
        )
        files = {leaf: CLEAN[leaf] + f"import {target}\n"}
        cases.append(pytest.param(files, [expected], id=f"level {low} imports level {high}"))
    return cases


VIOLATIONS = [
    pytest.param(
        {
            "config/load.py": (
                "from lstm_app.config import Config\nfrom lstm_app.models import build\n"
            )
        },
        [
            "lstm_app/config/load.py:2 imports lstm_app.models.build "
            "(config, level 1 -> models, level 4: upward)"
        ],
        id="a lower level imports a higher one",
    ),
    pytest.param(
        {"serving/predict.py": CLEAN["serving/predict.py"] + "import lstm_app.evaluation.report\n"},
        [
            "lstm_app/serving/predict.py:2 imports lstm_app.evaluation.report "
            "(serving, level 6 -> evaluation, level 6: a sibling)"
        ],
        id="a sibling imports a sibling",
    ),
    pytest.param(
        {"search.py": "from lstm_app import errors\n"},
        ["lstm_app/search.py: lstm_app.search has no level in LEVELS"],
        id="a module with no level",
    ),
    pytest.param(
        {
            "training/resume.py": (
                "from lstm_app.training.fit import fit\n"
                "def resume():\n"
                "    from lstm_app.evaluation import report\n"
            )
        },
        [
            "lstm_app/training/resume.py:3 imports lstm_app.evaluation.report "
            "(training, level 5 -> evaluation, level 6: upward)"
        ],
        id="a lazy import inside a function",
    ),
    pytest.param(
        {"data/windows.py": "from . import io\nfrom ..models.build import build\n"},
        [
            "lstm_app/data/windows.py:2 imports lstm_app.models.build "
            "(data, level 3 -> models, level 4: upward)"
        ],
        id="a relative import",
    ),
    pytest.param(
        {"runs/rundir.py": CLEAN["runs/rundir.py"] + "from lstm_app.runs import lifecycle\n"},
        [
            "cycle: lstm_app.runs.lifecycle -> lstm_app.runs.rundir -> lstm_app.runs.lifecycle"
            "\n  lstm_app/runs/lifecycle.py:1 imports lstm_app.runs.rundir"
            "\n  lstm_app/runs/rundir.py:2 imports lstm_app.runs.lifecycle"
        ],
        id="a cycle of two modules",
    ),
    pytest.param(
        {"config/choices.py": CLEAN["config/choices.py"] + "from lstm_app.config import Config\n"},
        [
            "cycle: lstm_app.config -> lstm_app.config.schema -> lstm_app.config.choices "
            "-> lstm_app.config"
            "\n  lstm_app/config/__init__.py:1 imports lstm_app.config.schema"
            "\n  lstm_app/config/schema.py:2 imports lstm_app.config.choices"
            "\n  lstm_app/config/choices.py:2 imports lstm_app.config"
        ],
        id="a cycle of three modules, through a package's __init__",
    ),
    pytest.param(
        {"evaluation/plots.py": "x = 1\n" * (MAX_LINES + 1)},
        [f"lstm_app/evaluation/plots.py: {MAX_LINES + 1} lines (over {MAX_LINES})"],
        id="a too-long module",
    ),
    pytest.param(
        {"jobs/panel.py": CLEAN["jobs/panel.py"] + "def run():\n    import experiments.adding\n"},
        [
            "lstm_app/jobs/panel.py:3 imports experiments.adding "
            "(experiments/ is outside the package)"
        ],
        id="lstm_app imports experiments",
    ),
]


def test_every_package_of_the_levels_has_a_leaf_in_the_clean_package(tmp_path):
    assert sorted(LEAVES) == sorted({package for _, package, _ in LEVELS})
    graph = import_graph(read_package(write_package(tmp_path, CLEAN)))
    imported = set().union(*graph.values())
    leaves = {module_name(Path("lstm_app", leaf), Path("lstm_app")) for leaf in LEAVES.values()}
    assert leaves <= set(graph), f"not modules of CLEAN: {sorted(leaves - set(graph))}"
    assert not leaves & imported, f"leaves that CLEAN imports: {sorted(leaves & imported)}"


def test_the_checker_reports_nothing_on_a_clean_package(tmp_path):
    assert check(write_package(tmp_path, CLEAN)) == []


@pytest.mark.parametrize(("files", "expected"), VIOLATIONS + next_level_up_cases())
def test_the_checker_reports_exactly_the_one_violation(tmp_path, files, expected):
    assert check(write_package(tmp_path, {**CLEAN, **files})) == expected


def test_an_allowed_upward_import_is_not_reported_and_a_stale_allowance_is(tmp_path):
    files = {**CLEAN, "config/load.py": "from lstm_app.models import build\n"}
    root = write_package(tmp_path, files)
    allowed = {("lstm_app.config.load", "lstm_app.models.build"): "why"}
    assert check(root, allowed) == []
    stale = {("lstm_app.config.load", "lstm_app.data.io"): "why"}
    assert check(root, {**allowed, **stale}) == [
        "ALLOWED_UPWARD: lstm_app.config.load -> lstm_app.data.io is no upward or sibling "
        "import any more: remove it"
    ]
