"""The package's import levels (`docs/architecture.md`), read from the source files' syntax.

Data flows one way, config -> data -> models -> training -> evaluation/serving, and only the
API and the command line wire the stages together. Each package has a level (`LEVELS`); a
module imports its own package and lower levels, never a higher level and never a sibling
package of its own level. The one exception is a *catalogue* (a table of choices with their
implementations, such as `data/transforms.py`): importable from any level, because the config
schema must name every choice before TensorFlow loads.

The level checks read files (`ast`), so they import neither the package nor TensorFlow; every
import counts, the ones inside functions included.
"""

import ast
import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest

import lstm_app

PACKAGE = Path(lstm_app.__file__).resolve().parent

# (level, package, module prefixes), low to high. A module belongs to the entry with the
# longest prefix that names it or a package above it; "lstm_app" alone is the `__init__`
# only, so a new module outside every entry fails `test_imports_go_down_the_levels_only`.
# Entries of one level with different package names are siblings and must not import each
# other; modules of one entry import each other freely.
LEVELS = (
    (0, "bottom", ("lstm_app.errors", "lstm_app.registry", "lstm_app.keras_compat")),
    (1, "config", ("lstm_app.config",)),
    (2, "runs", ("lstm_app.runs",)),
    (3, "data", ("lstm_app.data",)),
    (4, "models", ("lstm_app.models",)),
    (5, "training", ("lstm_app.training",)),
    (6, "evaluation", ("lstm_app.evaluation",)),
    (6, "serving", ("lstm_app.serving",)),
    (7, "api", ("lstm_app.pipeline", "lstm_app.tuning", "lstm_app.api", "lstm_app")),
    (8, "cli", ("lstm_app.cli", "lstm_app.__main__")),
)

# what a catalogue must not import when it is imported (its functions may, lazily)
HEAVY = ("tensorflow", "keras", "tf_keras")


@dataclass(frozen=True)
class Import:
    """One import statement's target: the module it names, resolved, and where it is."""

    target: str  # the absolute module name, e.g. "lstm_app.data.prepare" or "numpy"
    line: int
    at_import_time: bool  # False when inside a function (run only when it is called)


@dataclass(frozen=True)
class Module:
    """One module of the package: its name, its file and every import it makes."""

    name: str  # e.g. "lstm_app.data.prepare"; a package is named by its `__init__.py`
    path: str  # e.g. "lstm_app/data/prepare.py", as the report shows it
    imports: tuple[Import, ...]


def placement(name: str) -> tuple[int, str] | None:
    """The (level, package) of module `name` from `LEVELS`, or None when it has none."""
    best, best_length = None, -1
    for level, package, prefixes in LEVELS:
        for prefix in prefixes:
            names_it = name == prefix or (prefix != "lstm_app" and name.startswith(prefix + "."))
            if names_it and len(prefix) > best_length:
                best, best_length = (level, package), len(prefix)
    return best


def module_name(path: Path, root: Path) -> str:
    """The dotted name of the module in `path`, for a package directory `root`."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def collect_imports(tree: ast.Module, name: str, is_package: bool, known: set[str]):
    """Every import in `tree` (of module `name`), relative ones resolved against its package;
    `from a import b` names `a.b` when that is a module in `known`, else `a`."""
    package = name if is_package else name.rpartition(".")[0]
    found = []

    def visit(node: ast.AST, at_import_time: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno, at_import_time) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module
            for alias in node.names:
                child = f"{source}.{alias.name}"
                target = child if child in known else source
                found.append(Import(target, node.lineno, at_import_time))
        inside_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            never_runs = _type_checking(node) and child in node.body  # annotations only
            visit(child, at_import_time and not inside_function and not never_runs)

    visit(tree, True)
    return tuple(dict.fromkeys(found))


def _type_checking(node: ast.AST) -> bool:
    """Whether `node` is `if TYPE_CHECKING:`, whose body never runs (imports for annotations)."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def read_package(root: Path) -> dict[str, Module]:
    """Every module of the package in directory `root`, by name, with its imports."""
    paths = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    known = {module_name(p, root) for p in paths}
    modules = {}
    for path in paths:
        name = module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        imports = collect_imports(tree, name, path.name == "__init__.py", known)
        modules[name] = Module(name, path.relative_to(root.parent).as_posix(), imports)
    return modules


def catalogues(modules: dict[str, Module]) -> set[str]:
    """The catalogue modules: files (not a package's `__init__`) that, when imported, import no
    TensorFlow or Keras and, from the package, only level-0 modules and catalogues of their own
    package. What their functions import later is held to their own level, like any module's."""

    def light(module: Module) -> bool:
        return not module.path.endswith("__init__.py") and not any(
            imp.at_import_time and imp.target.split(".")[0] in HEAVY for imp in module.imports
        )

    found = {module.name for module in modules.values() if light(module)}
    changed = True
    while changed:  # drop the ones that import a non-catalogue, until none is left to drop
        changed = False
        for name in sorted(found):
            own = placement(name)
            for imp in modules[name].imports:
                if not imp.at_import_time or imp.target.split(".")[0] != "lstm_app":
                    continue
                theirs = placement(imp.target)
                bottom = theirs is not None and theirs[0] == 0
                same_package_catalogue = imp.target in found and theirs == own
                if not (bottom or same_package_catalogue):
                    found.discard(name)
                    changed = True
                    break
    return found


def level_violations(root: Path) -> list[str]:
    """Every import in the package at `root` that breaks the levels, one line each:
    `lstm_app/x/y.py:LINE imports lstm_app.z (level A -> level B)`."""
    modules = read_package(root)
    catalogue = catalogues(modules)
    found = []
    for module in modules.values():
        own = placement(module.name)
        if own is None:
            found.append(f"{module.path}: {module.name} has no level in LEVELS")
            continue
        for imp in module.imports:
            if imp.target.split(".")[0] != "lstm_app" or imp.target in catalogue:
                continue
            theirs = placement(imp.target)
            if theirs is None:
                found.append(f"{module.path}:{imp.line} imports {imp.target} (no level)")
            elif theirs[0] > own[0] or (theirs[0] == own[0] and theirs[1] != own[1]):
                found.append(
                    f"{module.path}:{imp.line} imports {imp.target} "
                    f"(level {own[0]} -> level {theirs[0]})"
                )
    return found


def test_imports_go_down_the_levels_only():
    found = level_violations(PACKAGE)
    if found:
        pytest.fail(
            f"{len(found)} import(s) break the levels of docs/architecture.md (a module imports "
            "its own package and lower levels only; the same level is a sibling package):\n"
            + "\n".join(found),
            pytrace=False,
        )


def test_the_level_check_reports_each_violation_with_its_line(tmp_path):
    """The guard itself: a small package with known violations, each of which must be found;
    the allowed imports (own package, lower level, a catalogue) must not be."""
    files = {
        "__init__.py": "def __getattr__(name):\n    from lstm_app import api\n",
        "errors.py": "",
        "registry.py": "from lstm_app.errors import Error\n",
        "config/__init__.py": "",
        "config/schema.py": (
            "from lstm_app.data.transforms import TRANSFORMS\n"  # a catalogue: allowed
            "from lstm_app.serving.formats import FORMATS\n"  # a catalogue too, see below
            "from . import load\n"
            "def choices():\n"
            "    from lstm_app.training import fit\n"  # inside a function: counts
        ),
        "config/load.py": "from ..models.layers import GateLSTM\n",  # relative, resolved
        "data/__init__.py": "",
        "data/transforms.py": "from lstm_app.registry import Registry\n",
        "models/__init__.py": "",
        "models/layers.py": "import keras\nfrom lstm_app.errors import Error\n",  # not one
        "training/__init__.py": "",
        "training/fit.py": "import lstm_app\nimport lstm_app.models.layers\n",
        "serving/__init__.py": "",
        "serving/spec.py": "from lstm_app.errors import Error\n",
        "serving/formats.py": (
            "from lstm_app.serving.spec import Spec\n"  # its own package's catalogue
            "def write():\n"
            "    import keras\n"  # later, when used: still a catalogue
            "    from lstm_app.serving import graph\n"
        ),
        "serving/graph.py": "import keras\nfrom lstm_app.evaluation import metrics\n",
        "evaluation/__init__.py": "",
        "evaluation/metrics.py": "import keras\n",  # not a catalogue, so a sibling's import
        "search.py": "",
    }
    for relative, source in files.items():
        path = tmp_path / "lstm_app" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")

    assert sorted(level_violations(tmp_path / "lstm_app")) == [
        "lstm_app/config/load.py:1 imports lstm_app.models.layers (level 1 -> level 4)",
        "lstm_app/config/schema.py:5 imports lstm_app.training.fit (level 1 -> level 5)",
        "lstm_app/search.py: lstm_app.search has no level in LEVELS",
        "lstm_app/serving/graph.py:2 imports lstm_app.evaluation.metrics (level 6 -> level 6)",
        "lstm_app/training/fit.py:1 imports lstm_app (level 5 -> level 7)",
    ]


def test_the_package_never_imports_the_experiments():
    found = [
        f"{module.path}:{imp.line} imports {imp.target}"
        for module in read_package(PACKAGE).values()
        for imp in module.imports
        if imp.target.split(".")[0] == "experiments"
    ]
    assert not found, "the installed package must not import experiments/:\n" + "\n".join(found)


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
