"""Loading a config: YAML files read safely, `--set KEY=VALUE` overrides applied, relative
paths resolved, and the result checked against the schema.

    cfg = load_config("configs/article.yaml", ["training.epochs=20"])

Any mistake becomes a `UserInputError` (a `ConfigError` for a bad key or value) that names the
file, the `--set` that caused it if one did, the key, what was expected and what was found:

    configs/my.yaml: training.epoch: unknown key; did you mean 'epochs'?
"""

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from lstm_app.config.schema import Config
from lstm_app.config.validate import build, to_plain
from lstm_app.errors import ConfigError, UserInputError, describe, format_key


def config_from_dict(raw: dict) -> Config:
    """Builds and checks a `Config` from plain values (e.g. `yaml.safe_load` of a config file).

    Relative `data.path` values are kept as they are; `load_config` resolves them.
    Raises `ConfigError` naming the key.
    """
    return build(Config, raw, ())


def config_to_dict(cfg) -> dict:
    """The plain-value form of a config (or part of one), ready for `yaml.safe_dump`."""
    return to_plain(cfg)


class _ConfigLoader(yaml.SafeLoader):
    """YAML's safe loader, reading `1e-3` as a number (as YAML 1.2 does) and refusing
    duplicate keys, which the plain safe loader silently lets the last one win."""


_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _construct_mapping(loader, node, deep=False):
    """A mapping, refusing a key written twice in it. Merge keys (`<<: *anchor`) are not keys:
    the keys they merge in may be overridden by the mapping's own, as YAML defines."""
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, (dict, list)):
            continue  # the base constructor reports unhashable keys
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_ConfigLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, source: str):
    """Parses YAML `text` safely; errors name `source` and the line."""
    try:
        return yaml.load(text, Loader=_ConfigLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = err.problem or err.context or "cannot be parsed"
        raise UserInputError(f"{source}: {where}invalid YAML: {problem}") from None
    except yaml.YAMLError as err:
        raise UserInputError(f"{source}: invalid YAML: {err}") from None


def read_config_file(path: Path) -> dict:
    """The top-level mapping of a YAML config file. Raises UserInputError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise UserInputError(f"{path}: is a directory, expected a YAML config file") from None
    except UnicodeDecodeError as err:
        raise UserInputError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise UserInputError(f"{path}: cannot read the config: {err.strerror}") from None
    raw = parse_yaml(text, str(path))
    if raw is None:
        raise UserInputError(f"{path}: the config is empty")
    if not isinstance(raw, dict):
        raise UserInputError(
            f"{path}: expected a mapping of keys at the top level, got {describe(raw)}"
        )
    return raw


@dataclass(frozen=True)
class Override:
    """One `--set KEY=VALUE`: `key` as a path, `value` parsed as YAML, `text` as given."""

    key: tuple
    value: object
    text: str


def parse_override(text: str) -> Override:
    """Parses `KEY=VALUE`, e.g. `training.epochs=20` or `model.layers.0.units=64`."""
    name, sep, value_text = text.partition("=")
    parts = name.strip().split(".") if name.strip() else []
    if not sep or not parts or not all(parts):
        raise UserInputError(
            f"--set {text}: expected KEY=VALUE with a dotted key, e.g. training.epochs=20"
        )
    key = tuple(int(p) if p.isdigit() else p for p in parts)
    value = parse_yaml(value_text, f"--set {text}")
    return Override(key, value, text)


def _apply_override(raw: dict, override: Override) -> None:
    """Sets `override.value` at `override.key` in `raw`, creating sections as needed."""
    node = raw
    for depth, part in enumerate(override.key):
        last = depth == len(override.key) - 1
        here = format_key(override.key[:depth]) or "the config"
        if isinstance(node, list):
            if not isinstance(part, int) or not 0 <= part < len(node):
                raise UserInputError(
                    f"--set {override.text}: {here} is a list of {len(node)} items; expected an "
                    f"index from 0 to {len(node) - 1}, got {part}"
                )
        elif not isinstance(node, dict):
            raise UserInputError(f"--set {override.text}: {here} is a value, not a section")
        elif not last and node.get(part) is None:
            node[part] = {}
        if last:
            node[part] = override.value
        else:
            node = node[part]


def _related(a: tuple, b: tuple) -> bool:
    """True when one key path contains the other."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _absolute(path_text, base: Path):
    """`path_text` made absolute against `base`, if it is a relative path string."""
    if not isinstance(path_text, str) or not path_text.strip():
        return path_text
    path = Path(path_text).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def _override_texts(overrides) -> list[str]:
    """`overrides` as a list of strings; TypeError, in one line, for anything else (a lone
    string would otherwise be read character by character)."""
    expected = "overrides: expected a list of KEY=VALUE strings, e.g. ['training.epochs=20']"
    if isinstance(overrides, str):
        raise TypeError(f"{expected}; got the string {describe(overrides)}")
    if isinstance(overrides, (bytes, bytearray, dict)) or not hasattr(overrides, "__iter__"):
        raise TypeError(f"{expected}; got {_a(type(overrides).__name__)}")
    texts = list(overrides)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{expected}; item {i} is {_a(type(text).__name__)}: {describe(text)}")
    return texts


def _a(name: str) -> str:
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}" if name != "bytes" else name


def load_config(path, overrides=()) -> Config:
    """Reads, overrides and checks a YAML config.

    Args:
        path: the YAML file. A relative `data.path` in it resolves against its folder.
        overrides: `KEY=VALUE` strings (as given to `--set`), values parsed as YAML; a
            relative `data.path` given here resolves against the current directory.

    Returns:
        The checked `Config`, with `data.path` absolute.

    Raises:
        UserInputError (ConfigError for a bad key or value), naming the file and the key;
        TypeError if `overrides` is not a list (or other sequence) of strings.
    """
    texts = _override_texts(overrides)
    path = Path(path)
    raw = read_config_file(path)
    if isinstance(raw.get("data"), dict) and "path" in raw["data"]:
        raw["data"]["path"] = _absolute(raw["data"]["path"], path.resolve().parent)
    parsed = [parse_override(text) for text in texts]
    for override in parsed:
        if override.key == ("data", "path"):
            override = dataclasses.replace(override, value=_absolute(override.value, Path.cwd()))
        _apply_override(raw, override)
    try:
        return config_from_dict(raw)
    except ConfigError as err:
        setters = [o.text for o in parsed if _related(o.key, err.key)]
        source = f"{path} (with --set {setters[-1]})" if setters else str(path)
        raise err.with_source(source) from None
