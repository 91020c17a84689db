"""The generic validator: builds frozen dataclasses from plain YAML values, checking every
value on the way, and turns them back into plain values.

It knows no config key: the schema (`lstm_app.config.schema`) is the dataclasses, and this
module reads them. A field's type is what the YAML value must be (`int`, `float`, `str`, `bool`,
`Path`, a `Literal`, a tuple, an optional, another dataclass); its default is used when the key
is absent (no default: the key is required); its metadata adds checks:

    bounded(12, ge=1)              a number within bounds (`ge`, `gt`, `le`, `lt`)
    bounded(12, ge=1, le=limit(N)) the same, `N` a size limit: a guard against absurd values
                                   (`1e23` folds), named in messages only to a value above it
    choice("adam", OPTIMIZERS)     a name registered in a `Registry`, or one of a tuple of
                                   names (for a tuple: each item)
    choice((), NAMES, unique=True) the same, each name listed once (see `unique`)
    unique((), item="column '{}'") a list whose items differ: `column 'x' is listed twice`
    field(metadata={"by_type": LAYER_TYPES})   a tuple of mappings, each built as the dataclass
                                   that its `type` key names in the registry

After a dataclass is built, its `_finish()` (if any) checks what involves several keys and may
return a completed copy. Every mistake is a `ConfigError` naming the key path, e.g.
`training.epoch: unknown key; did you mean 'epochs'?`.
"""

import dataclasses
import math
import types
from dataclasses import field
from pathlib import Path
from typing import Literal, Union, get_args, get_origin, get_type_hints

from lstm_app.errors import ConfigError, describe, suggest
from lstm_app.registry import Registry


def bounded(default=dataclasses.MISSING, **bounds):
    """A dataclass field whose number must satisfy `bounds` (`ge`, `gt`, `le`, `lt`)."""
    return field(default=default, metadata=bounds)


class Limit(int):
    """An upper bound on a size that guards against absurd values (a typo, `10**23`), rather
    than a limit of the domain: messages name it only to a value above it (see `limit`)."""


def limit(maximum: int) -> Limit:
    """`maximum` as a size limit, for `bounded(..., le=limit(maximum))`."""
    return Limit(maximum)


def choice(default=dataclasses.MISSING, registry=None, unique=False):
    """A dataclass field whose value (or, for a tuple, each item) must be a name in `registry`,
    a `Registry` or a tuple of names. `unique`: a tuple names each once, as `unique()` checks
    (`True`: each item named `'{}'`; or the text naming an item)."""
    if registry is not None and not isinstance(registry, Registry):
        names, registry = registry, Registry("choice")
        for name in names:
            registry.add(name, name)
    metadata = {"choices": registry}
    if unique:
        metadata["unique"] = _ITEM if unique is True else unique
    return field(default=default, metadata=metadata)


_ITEM = "'{}'"  # how a "listed twice" message names an item by default: 'x'


def unique(default=dataclasses.MISSING, item=_ITEM):
    """A dataclass field holding a list (a tuple) whose items must all differ: the second of
    two equal items is refused at its index, `{item} is listed twice`, `item` a format string
    of the item (`'{}'`: `'x' is listed twice`; `column '{}'`: `column 'x' is listed twice`)."""
    return field(default=default, metadata={"unique": item})


_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
_BOUND_TEXT = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
_BOUND_CHECK = {
    "ge": lambda v, b: v >= b,
    "gt": lambda v, b: v > b,
    "le": lambda v, b: v <= b,
    "lt": lambda v, b: v < b,
}


def _is_required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def build(cls, raw, key: tuple = ()):
    """Builds dataclass `cls` from the mapping `raw`, found at `key` in the config; checks every
    value, then runs `_finish`. Raises ConfigError naming the key."""
    names = [f.name for f in dataclasses.fields(cls)]
    if isinstance(raw, bool) and "enabled" in names:
        raw = {"enabled": raw}
    if not isinstance(raw, dict):
        raise ConfigError(key, f"expected a mapping of keys, got {describe(raw)}")
    for name in raw:
        if name not in names:
            hint = suggest(name, names) or f"; expected one of: {', '.join(names)}"
            raise ConfigError((*key, name), f"unknown key{hint}")
    hints = get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in raw:
            values[f.name] = _coerce(raw[f.name], hints[f.name], (*key, f.name), f.metadata)
        elif _is_required(f):
            raise ConfigError((*key, f.name), "missing required key")
        elif dataclasses.is_dataclass(f.default_factory):  # an absent section: its defaults,
            values[f.name] = build(f.default_factory, {}, (*key, f.name))  # checked as given
    obj = cls(**values)
    if hasattr(obj, "_finish"):
        try:
            obj = obj._finish()
        except ConfigError as err:
            raise ConfigError(key + err.key, err.message) from None
    return obj


def _build_by_type(raw, registry, key: tuple):
    """Builds one mapping whose `type` key names, in `registry`, the dataclass to build (each
    entry has a `config` attribute: that dataclass)."""
    if not isinstance(raw, dict):
        raise ConfigError(key, f"expected a mapping with a 'type' key, got {describe(raw)}")
    kind = raw.get("type")
    if kind is None:
        choices = ", ".join(registry.names())
        raise ConfigError((*key, "type"), f"missing required key; expected one of: {choices}")
    registry.check(kind, (*key, "type"))
    return build(registry[kind].config, raw, key)


def _coerce_either(value, options, key: tuple, metadata):
    """A value of one type or a word: `int | Literal["auto"]` takes 3 or `auto`. The message
    of a value that is neither is the type's, with the words added: `expected an integer >= 1
    or 'auto', got 'x'`."""
    words = [w for option in options if get_origin(option) is Literal for w in get_args(option)]
    if isinstance(value, str) and value in words:
        return value
    typed = [option for option in options if get_origin(option) is not Literal]
    if len(typed) == 2 and get_origin(typed[1]) is tuple:  # `str | tuple[str, ...]`: one or a list
        if isinstance(value, list):
            return _coerce(value, typed[1], key, metadata)
        try:
            return _coerce(value, typed[0], key, metadata)
        except ConfigError as err:
            raise ConfigError(
                err.key, err.message.replace(", got ", ", or a list of them, got ", 1)
            ) from None
    (typed,) = typed
    try:
        return _coerce(value, typed, key, metadata)
    except ConfigError as err:
        listed = " or ".join(repr(w) for w in words)
        raise ConfigError(
            err.key, err.message.replace(", got ", f", or {listed}, got ", 1)
        ) from None


def _bounds(metadata) -> dict:
    return {op: b for op, b in metadata.items() if op in _BOUND_CHECK}


def _coerce(value, tp, key: tuple, metadata):
    """Checks that `value` (from YAML) has type `tp` and the checks of the field's `metadata`,
    and returns it in the schema's form."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if value is None and len(options) < len(get_args(tp)):
            return None
        if len(options) == 1:
            return _coerce(value, options[0], key, metadata)
        return _coerce_either(value, options, key, metadata)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(key, f"expected a list, got {describe(value)}")
        (item_type, _) = get_args(tp)
        items = tuple(_coerce(v, item_type, (*key, i), metadata) for i, v in enumerate(value))
        if metadata.get("unique") is not None:
            _check_unique(items, key, metadata["unique"])
        return items
    if metadata.get("by_type") is not None:
        return _build_by_type(value, metadata["by_type"], key)
    if metadata.get("choices") is not None:
        return metadata["choices"].check(value, key)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices or isinstance(value, bool):
            listed = ", ".join(str(c) for c in choices)
            hint = suggest(value, choices) if isinstance(value, str) else ""
            raise ConfigError(key, f"expected one of: {listed}; got {describe(value)}{hint}")
        return value
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    if tp is Path:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(key, f"expected a file path, got {describe(value)}")
        return Path(value)
    return _check_scalar(value, tp, key, _bounds(metadata))


def _check_unique(items: tuple, key: tuple, item: str) -> None:
    """ConfigError at the second of two equal items, naming it by the format string `item`."""
    for i, value in enumerate(items):
        if value in items[:i]:
            raise ConfigError((*key, i), f"{item.format(value)} is listed twice")


def _check_scalar(value, tp, key: tuple, bounds):
    """Checks a bool, int, float or str value, and its bounds."""
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
    }[tp]
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    bound_text = " and ".join(
        f"{_BOUND_TEXT[op]} {b if isinstance(b, int) else f'{b:g}'}"
        for op, b in bounds.items()
        if not isinstance(b, Limit) or (number and value > b)  # a limit: named when passed
    )
    expected = _TYPE_NAMES[tp] + (f" {bound_text}" if bound_text else "")
    if not ok or (tp is float and not math.isfinite(value)):
        raise ConfigError(key, f"expected {expected}, got {describe(value)}")
    if tp is str and not value.strip():
        raise ConfigError(key, "expected a non-empty string, got ''")
    if any(not _BOUND_CHECK[op](value, b) for op, b in bounds.items()):
        raise ConfigError(key, f"expected {expected}, got {describe(value)}")
    return float(value) if tp is float else value


def to_plain(obj):
    """The plain-value form of a dataclass (or part of one), ready for `yaml.safe_dump`."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj
