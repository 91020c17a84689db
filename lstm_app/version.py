"""The version of lstm-app (read by pyproject.toml, `lstm-train --version` and run.json)."""

__version__ = "0.1.0"
