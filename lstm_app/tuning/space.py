"""The space file of `lstm-tune`: which config keys a search draws, over what ranges, and the
validation metric it minimises; each key checked against the config's schema when read.

    objective: mae                 # a validation metric: mae, rmse, mase or smape
    parameters:                    # dotted config keys, as --set takes them
      training.learning_rate: {float: [0.0001, 0.01], log: true}
      data.window.input_width: {int: [6, 24]}
      data.transforms: {choice: [[], [log], [log, diff]]}
"""

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from lstm_app.config.load import load_config
from lstm_app.errors import ConfigError, UserInputError

OBJECTIVES = ("mae", "rmse", "mase", "smape")
KINDS = ("int", "float", "choice")


@dataclass(frozen=True)
class Parameter:
    """One searched key: `kind` `int` or `float` over `[low, high]` (`log` scale), or
    `choice` among `values`."""

    key: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    values: tuple = ()

    def suggest(self, trial):
        """The trial's value of this key (Optuna's `suggest_*`)."""
        if self.kind == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log)
        if self.kind == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log)
        index = trial.suggest_categorical(self.key, list(range(len(self.values))))
        return self.values[index]

    def extremes(self) -> list:
        """Values to check the key with before any trial runs."""
        return list(self.values) if self.kind == "choice" else [self.low, self.high]

    def stored_value(self, stored):
        """The value of a trial's stored parameter (a choice is stored as its index)."""
        return self.values[stored] if self.kind == "choice" else stored

    def described(self) -> str:
        """The key's range as the space file gives it: `float [0.0001, 0.01] log`."""
        if self.kind == "choice":
            return f"choice {json.dumps(list(self.values))}"
        log = " log" if self.log else ""
        return f"{self.kind} [{self.low:g}, {self.high:g}]{log}"


@dataclass(frozen=True)
class Space:
    """What `lstm-tune` searches: `parameters`, and the validation metric to minimise."""

    parameters: tuple[Parameter, ...]
    objective: str = "mae"


def override(key: str, value) -> str:
    """`KEY=VALUE` as `--set` takes it, the value written as YAML (`[log, diff]`)."""
    text = yaml.safe_dump(value, default_flow_style=True).strip()
    return f"{key}={text.removesuffix('...').strip()}"


def read_space(path, config) -> Space:
    """The space file `path`, each key checked against the schema with `config` (every choice,
    and both ends of a range, must give a valid config); UserInputError in one line naming the
    file and the key otherwise."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"--space {path}: not found") from None
    except yaml.YAMLError as err:
        detail = str(err).splitlines()[0]
        raise UserInputError(f"--space {path}: not valid YAML: {detail}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("parameters"), dict):
        raise UserInputError(
            f"{path}: expected a mapping with 'parameters': {{KEY: {{int|float|choice: ...}}}}"
        )
    unknown = sorted(set(raw) - {"parameters", "objective"})
    if unknown:
        raise UserInputError(f"{path}: {unknown[0]}: unknown key; expected parameters, objective")
    objective = raw.get("objective", "mae")
    if objective not in OBJECTIVES:
        raise UserInputError(
            f"{path}: objective: expected one of {', '.join(OBJECTIVES)}, got {objective!r}"
        )
    parameters = tuple(_parameter(path, key, spec) for key, spec in raw["parameters"].items())
    if not parameters:
        raise UserInputError(f"{path}: parameters: expected at least one key to search")
    for parameter in parameters:
        for value in parameter.extremes():
            try:
                load_config(config, [override(parameter.key, value)])
            except ConfigError as err:
                raise UserInputError(f"{path}: parameters: {parameter.key}: {err}") from None
    return Space(parameters, objective)


def _parameter(path: Path, key: str, spec) -> Parameter:
    """One entry of `parameters`, its form checked."""
    where = f"{path}: parameters: {key}"
    if not isinstance(spec, dict) or len(set(spec) & set(KINDS)) != 1:
        raise UserInputError(
            f"{where}: expected one of {{int: [low, high]}}, {{float: [low, high], log: true}} "
            "or {choice: [...]}"
        )
    extra = sorted(set(spec) - {*KINDS, "log"})
    if extra:
        raise UserInputError(f"{where}: {extra[0]}: unknown key; expected int, float, choice, log")
    kind = next(k for k in KINDS if k in spec)
    if kind == "choice":
        values = spec["choice"]
        if not isinstance(values, list) or not values:
            raise UserInputError(f"{where}: choice: expected a list of values")
        return Parameter(key, kind, values=tuple(values))
    bounds = spec[kind]
    number = int if kind == "int" else (int, float)
    if (
        not isinstance(bounds, list)
        or len(bounds) != 2
        or not all(isinstance(b, number) and not isinstance(b, bool) for b in bounds)
        or bounds[0] >= bounds[1]
    ):
        raise UserInputError(f"{where}: {kind}: expected [low, high], low < high, got {bounds}")
    log = spec.get("log", False)
    if log and bounds[0] <= 0:
        raise UserInputError(f"{where}: log: needs a positive low end, got {bounds[0]}")
    cast = int if kind == "int" else float
    return Parameter(key, kind, cast(bounds[0]), cast(bounds[1]), bool(log))
