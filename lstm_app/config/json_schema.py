"""The config's JSON Schema, derived from the schema's dataclasses and registries, for editors:

    lstm-train --schema > lstm-app.schema.json
    # first line of a config:  # yaml-language-server: $schema=lstm-app.schema.json

The schema says what the validator (`lstm_app.config.validate`) checks key by key: types,
bounds, choices from the registries, required keys, unknown keys refused. Checks that involve
several keys (`_finish`: horizon against the output units, the split's sum...) are the
validator's alone.
"""

import dataclasses
import inspect
import types
from pathlib import Path
from typing import Literal, Union, get_args, get_origin, get_type_hints

from lstm_app.config.schema import Config

_BOUNDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}
_SCALARS = {bool: "boolean", int: "integer", float: "number", str: "string"}


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a config file."""
    schema = _dataclass_schema(Config)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "lstm-app config",
        **schema,
    }


def _describe(cls) -> str:
    return inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].replace("\n", " ")


def _dataclass_schema(cls, type_name: str | None = None) -> dict:
    """An object with the dataclass's fields; `type_name` fixes its `type` key (a layer)."""
    hints = get_type_hints(cls)
    properties, required = {}, []
    for f in dataclasses.fields(cls):
        if f.name == "type" and type_name is not None:
            properties["type"] = {"const": type_name}
            required.append("type")
            continue
        properties[f.name] = _field_schema(hints[f.name], f.metadata)
        default = f.default
        if default is not dataclasses.MISSING and _plain(default):
            properties[f.name]["default"] = list(default) if isinstance(default, tuple) else default
        if default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    schema = {"type": "object", "description": _describe(cls), "properties": properties}
    schema["additionalProperties"] = False
    if required:
        schema["required"] = required
    if "enabled" in properties:  # `true`/`false` stands for {enabled: ...}
        return {"anyOf": [{"type": "boolean"}, schema], "description": schema["description"]}
    return schema


def _plain(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str)) or value == ()


def _field_schema(tp, metadata) -> dict:
    """The schema of one value of type `tp` with the field's `metadata` (bounds, choices)."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [_field_schema(a, metadata) for a in get_args(tp) if a is not type(None)]
        if type(None) in get_args(tp):
            options.append({"type": "null"})
        return {"anyOf": options}
    if origin is tuple:
        (item_type, _) = get_args(tp)
        return {"type": "array", "items": _field_schema(item_type, metadata)}
    if metadata.get("by_type") is not None:
        registry = metadata["by_type"]
        return {
            "oneOf": [_dataclass_schema(entry.config, name) for name, entry in registry.items()]
        }
    if origin is Literal:  # a word, such as auto, beside the registry's names
        return {"enum": list(get_args(tp))}
    if metadata.get("choices") is not None:
        return {"enum": list(metadata["choices"].names())}
    if dataclasses.is_dataclass(tp):
        return _dataclass_schema(tp)
    if tp is Path:
        return {"type": "string", "minLength": 1}
    schema = {"type": _SCALARS[tp]}
    if tp is str:
        schema["minLength"] = 1
    for op, bound in metadata.items():
        if op in _BOUNDS:
            schema[_BOUNDS[op]] = bound
    return schema
