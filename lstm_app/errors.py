"""Errors caused by what the user gave us: a config, a CSV, a command-line argument.

Each one carries a single-line message that names the file, the key, column or row, what was
expected and what was found. The CLI prints it on one line and exits with status 2; anything
else that escapes is a bug in this package, and keeps its traceback.
"""

import difflib


class UserInputError(Exception):
    """Bad input from the user, reported as one line (exit status 2)."""


class ConfigError(UserInputError):
    """A config value is missing, unknown, of the wrong type or out of range.

    Args:
        key: where in the config, as a tuple path, e.g. `("model", "layers", 0, "units")`.
        message: what was expected and what was found, without the key.
        source: the file (and `--set` argument) the value came from, if known.
    """

    def __init__(self, key: tuple, message: str, source: str | None = None):
        self.key = tuple(key)
        self.message = message
        self.source = source
        parts = [p for p in (source, format_key(self.key)) if p]
        super().__init__(": ".join([*parts, message]))

    def with_source(self, source: str) -> "ConfigError":
        """The same error, naming where the value came from."""
        return ConfigError(self.key, self.message, source)


class DataError(UserInputError):
    """The data file is missing, unreadable, or its values cannot be used."""


def format_key(key: tuple) -> str:
    """Formats a key path: `("model", "layers", 0, "units")` -> `model.layers[0].units`."""
    text = ""
    for part in key:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def describe(value) -> str:
    """How a received value is shown in messages: `'abc'`, `3`, `a list`, `nothing (null)`."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def first_line(err: Exception, default: str | None = None) -> str:
    """An exception's first line, for a one-line message; `default` (else the exception's type
    name) when it says nothing."""
    text = str(err).strip()
    return text.splitlines()[0] if text else default or type(err).__name__


def without_source(err: Exception) -> str:
    """A one-line message without its leading `SOURCE: ` (a file, shared by a list of them)."""
    return str(err).partition(": ")[2]


def suggest(word, choices) -> str:
    """`; did you mean 'x'?` for the closest of `choices` to `word`, or an empty string."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class RunFailedError(Exception):
    """Training ran but could not finish, e.g. its loss diverged (exit status 1)."""
