"""Registries: one table per kind of choice a user can name (a layer type, an optimizer, a
transform, an export format...), read by the schema, the builders, the docs and the errors.

    TRANSFORMS = Registry("transform")

    @TRANSFORMS.register("log")
    class Log: ...

    TRANSFORMS["log"]                  # the entry: here the class Log
    TRANSFORMS.names()                 # ("log", ...), in registration order
    TRANSFORMS.check("lg", key)        # ConfigError at `key`: "... did you mean 'log'?"

A registry holds plain objects (classes, functions, records); it imports nothing, so any
module, the TensorFlow-free config schema included, may read one.
"""

import importlib
from collections.abc import Iterator

from lstm_app.errors import ConfigError, describe, suggest


class Registry:
    """An ordered table `name -> entry` for one kind of choice.

    Args:
        kind: what an entry is, for messages (`"layer type"`, `"transform"`).
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, object] = {}

    def add(self, name: str, entry) -> None:
        """Adds `entry` under `name`; ValueError if the name is taken."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry

    def register(self, name: str):
        """A decorator that adds the decorated class or function under `name`."""

        def decorate(entry):
            self.add(name, entry)
            return entry

        return decorate

    def names(self) -> tuple[str, ...]:
        """Every registered name, in registration order."""
        return tuple(self._entries)

    def __getitem__(self, name: str):
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.kind} {name!r}; expected one of: {', '.join(self._entries)}"
            ) from None

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def items(self):
        return self._entries.items()

    def check(self, name, key: tuple) -> str:
        """`name`, if registered; else ConfigError at config key `key` listing the choices,
        with the closest one suggested."""
        if name in self:
            return name
        choices = ", ".join(self._entries)
        hint = suggest(name, self._entries) if isinstance(name, str) else ""
        raise ConfigError(key, f"expected one of: {choices}; got {describe(name)}{hint}")


def load_object(path: str):
    """The object an import path names: `keras.layers.LSTM` -> the class (imports its module)."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)
