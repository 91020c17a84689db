"""The config schema: typed, validated, unknown keys rejected, paths resolved.

A config is a YAML file with four parts, `name`/`seed`, `data`, `model` and `training`
(`configs/article.yaml` comments every key). `load_config` reads it with YAML's safe loader,
applies `--set KEY=VALUE` overrides, and builds the frozen dataclasses below, checking every
value on the way. Any mistake becomes a `ConfigError` that names the file, the key, what was
expected and what was found, e.g.

    configs/my.yaml: training.epoch: unknown key; did you mean 'epochs'?

The dataclasses are the schema: a field's type is what the YAML value must be, its default is
used when the key is absent (no default: the key is required), and `ge`/`gt`/`le`/`lt` in its
metadata bound numbers. Checks that involve several keys live in each class's `_finish`.
"""

import dataclasses
import difflib
import math
import re
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Union, get_args, get_origin, get_type_hints

import yaml

from lstm_app.errors import ConfigError, UserInputError, format_key

Activation = Literal[
    "tanh",
    "sigmoid",
    "hard_sigmoid",
    "relu",
    "relu6",
    "elu",
    "selu",
    "gelu",
    "silu",
    "swish",
    "softplus",
    "softsign",
    "exponential",
    "leaky_relu",
    "mish",
    "linear",
]
Monitor = Literal["val_loss", "loss"]


MAX_UNITS = 65536  # per layer: more is a typo, not a model (it would not fit in memory)


def bounded(default=dataclasses.MISSING, **bounds):
    """A dataclass field whose number must satisfy `bounds` (`ge`, `gt`, `le`, `lt`)."""
    return field(default=default, metadata=bounds)


# --------------------------------------------------------------------------------------------
# data


@dataclass(frozen=True)
class WindowConfig:
    """How the series is cut into windows: `input_width` steps in, `horizon` steps out."""

    input_width: int = bounded(12, ge=1)  # time steps the model sees
    horizon: int = bounded(1, ge=1)  # time steps it predicts, right after the input


@dataclass(frozen=True)
class SplitConfig:
    """Chronological train/val/test fractions of the rows; they must sum to 1."""

    train: float = bounded(0.7, gt=0, lt=1)
    val: float = bounded(0.15, gt=0, lt=1)
    test: float = bounded(0.15, gt=0, lt=1)

    def _finish(self):
        total = self.train + self.val + self.test
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ConfigError(
                (),
                f"train + val + test must sum to 1, got {self.train:g} + {self.val:g} + "
                f"{self.test:g} = {total:g}",
            )
        return self


@dataclass(frozen=True)
class SineConfig:
    """A generated series: `amplitude*sin(2*pi*t/period) + trend*t + noise*N(0, 1)`, t = 0, 1..."""

    length: int = bounded(1000, ge=2)  # number of time steps
    period: float = bounded(50.0, gt=0)  # time steps per cycle
    amplitude: float = 1.0
    trend: float = 0.0  # added per time step
    noise: float = bounded(0.1, ge=0)  # standard deviation of Gaussian noise (seeded by `seed`)


SINE_COLUMN = "value"
TIME_PARTS = ("year", "month", "day", "hour", "minute", "second")


@dataclass(frozen=True)
class DataConfig:
    """Where the series comes from and how it becomes windows."""

    source: Literal["csv", "sine"] = "csv"
    path: Path | None = None  # the CSV; relative paths resolve against the config's folder
    time_column: str | None = None  # parsed as dates; rows must be in increasing time order
    time_columns: tuple[str, ...] | None = None  # or a date split across columns, by part name
    target: str | None = None  # the column to forecast
    target_units: str | None = None  # what the target is measured in, for reports and export
    features: tuple[str, ...] | None = None  # input columns; default: the target alone
    categorical: tuple[str, ...] = ()  # feature columns of labels, one-hot encoded
    missing: Literal["error", "drop", "ffill", "interpolate"] = "error"  # empty or NA cells
    transforms: tuple[Literal["log", "diff", "seasonal_diff"], ...] = ()  # of the target
    season_length: int = bounded(1, ge=1)  # steps per season: seasonal naive, MASE, seasonal_diff
    window: WindowConfig = field(default_factory=WindowConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    scaler: Literal["standard", "minmax", "none"] = "standard"  # fitted on the train split only
    sine: SineConfig = field(default_factory=SineConfig)  # used when source is sine

    def _finish(self):
        if self.source == "csv":
            if self.path is None:
                raise ConfigError(("path",), "required when data.source is csv: the CSV file")
            if self.target is None:
                raise ConfigError(("target",), "required: the name of the column to forecast")
            target = self.target
        else:
            for name in ("path", "time_column", "time_columns"):
                if getattr(self, name) is not None:
                    raise ConfigError((name,), "not used when data.source is sine; remove it")
            target = self.target or SINE_COLUMN
            if target != SINE_COLUMN:
                raise ConfigError(
                    ("target",), f"a sine source has one column, '{SINE_COLUMN}'; got '{target}'"
                )
        features = self.features if self.features is not None else (target,)
        if not features:
            raise ConfigError(("features",), "expected at least one column name, got []")
        for i, name in enumerate(features):
            if name in features[:i]:
                raise ConfigError(("features", i), f"column '{name}' is listed twice")
            if self.source == "sine" and name != SINE_COLUMN:
                raise ConfigError(
                    ("features", i), f"a sine source has one column, '{SINE_COLUMN}'; got '{name}'"
                )
        self._check_time_columns()
        for i, name in enumerate(self.categorical):
            if name == target:
                raise ConfigError(
                    ("categorical", i), f"'{name}' is the target, which must be numeric"
                )
            if name not in features:
                raise ConfigError(
                    ("categorical", i), f"'{name}' is not in data.features; list it there too"
                )
        if "seasonal_diff" in self.transforms and self.season_length < 2:
            raise ConfigError(
                ("transforms",), "seasonal_diff needs data.season_length of 2 or more, got 1"
            )
        return dataclasses.replace(self, target=target, features=features)

    def _check_time_columns(self):
        if self.time_columns is None:
            return
        if self.time_column is not None:
            raise ConfigError(
                ("time_columns",), "give data.time_column or data.time_columns, not both"
            )
        for i, name in enumerate(self.time_columns):
            if name.lower() not in TIME_PARTS:
                raise ConfigError(
                    ("time_columns", i),
                    f"expected columns named after date parts ({', '.join(TIME_PARTS)}), got "
                    f"'{name}'",
                )
        parts = [name.lower() for name in self.time_columns]
        if not {"year", "month", "day"} <= set(parts):
            raise ConfigError(("time_columns",), "needs at least the year, month and day columns")


# --------------------------------------------------------------------------------------------
# model


@dataclass(frozen=True)
class RecurrentLayerConfig:
    """`lstm` or `gru`: keras.layers.LSTM / GRU with these arguments."""

    type: str
    units: int = bounded(ge=1, le=MAX_UNITS)
    return_sequences: bool = False  # true to feed another recurrent layer
    activation: Activation = "tanh"
    recurrent_activation: Activation = "sigmoid"
    dropout: float = bounded(0.0, ge=0, lt=1)  # on the inputs
    recurrent_dropout: float = bounded(0.0, ge=0, lt=1)  # on the recurrent state


GateVariant = Literal[
    "vanilla",
    "peephole",
    "cifg",
    "no_input_gate",
    "no_forget_gate",
    "no_output_gate",
    "no_input_activation",
    "no_output_activation",
    "article",
]


@dataclass(frozen=True)
class GateLSTMLayerConfig(RecurrentLayerConfig):
    """`gate_lstm`: lstm_app.layers.GateLSTM, the LSTM written gate by gate (docs/equations.md)."""

    variant: GateVariant = "vanilla"  # the standard equations, or a variant of them


@dataclass(frozen=True)
class SimpleRNNLayerConfig:
    """`simple_rnn`: keras.layers.SimpleRNN with these arguments."""

    type: str
    units: int = bounded(ge=1, le=MAX_UNITS)
    return_sequences: bool = False
    activation: Activation = "tanh"
    dropout: float = bounded(0.0, ge=0, lt=1)
    recurrent_dropout: float = bounded(0.0, ge=0, lt=1)


@dataclass(frozen=True)
class DenseLayerConfig:
    """`dense`: keras.layers.Dense, applied to the last axis."""

    type: str
    units: int = bounded(ge=1, le=MAX_UNITS)
    activation: Activation = "linear"


@dataclass(frozen=True)
class DropoutLayerConfig:
    """`dropout`: keras.layers.Dropout."""

    type: str
    rate: float = bounded(ge=0, lt=1)


LAYER_CONFIGS = {
    "lstm": RecurrentLayerConfig,
    "gate_lstm": GateLSTMLayerConfig,
    "gru": RecurrentLayerConfig,
    "simple_rnn": SimpleRNNLayerConfig,
    "dense": DenseLayerConfig,
    "dropout": DropoutLayerConfig,
}
RECURRENT_TYPES = ("lstm", "gate_lstm", "gru", "simple_rnn")
LayerConfig = (
    RecurrentLayerConfig
    | GateLSTMLayerConfig
    | SimpleRNNLayerConfig
    | DenseLayerConfig
    | DropoutLayerConfig
)


@dataclass(frozen=True)
class ModelConfig:
    """The stacked layers, in order, after an input of shape `(None, n_features)`."""

    layers: tuple[LayerConfig, ...]

    def _finish(self):
        if not any(layer.type in RECURRENT_TYPES for layer in self.layers):
            raise ConfigError(
                ("layers",), f"expected at least one recurrent layer ({', '.join(RECURRENT_TYPES)})"
            )
        sequence_in, previous = True, None
        for i, layer in enumerate(self.layers):
            if layer.type in RECURRENT_TYPES:
                if not sequence_in:
                    raise ConfigError(
                        ("layers", i),
                        f"{layer.type} needs a sequence input, but layers[{previous}] has "
                        "return_sequences: false",
                    )
                sequence_in, previous = layer.return_sequences, i
        if sequence_in:
            raise ConfigError(
                ("layers", previous, "return_sequences"),
                "the last recurrent layer must have return_sequences: false, so that the model "
                "gives one forecast per window",
            )
        return self

    def output_layer_index(self) -> int:
        """Index of the last layer with `units`: its units are the model's outputs."""
        return max(i for i, layer in enumerate(self.layers) if hasattr(layer, "units"))


# --------------------------------------------------------------------------------------------
# training


@dataclass(frozen=True)
class EarlyStoppingConfig:
    """Stop when `monitor` has not improved by `min_delta` for `patience` epochs."""

    enabled: bool = False
    monitor: Monitor = "val_loss"
    patience: int = bounded(20, ge=0)
    min_delta: float = bounded(0.0, ge=0)
    restore_best_weights: bool = True


@dataclass(frozen=True)
class CheckpointConfig:
    """Keep the best model so far, by `monitor`, as `best.keras` in the run directory."""

    enabled: bool = False
    monitor: Monitor = "val_loss"


@dataclass(frozen=True)
class ReduceLROnPlateauConfig:
    """Multiply the learning rate by `factor` when `monitor` stalls for `patience` epochs."""

    enabled: bool = False
    monitor: Monitor = "val_loss"
    factor: float = bounded(0.5, gt=0, lt=1)
    patience: int = bounded(10, ge=0)
    min_lr: float = bounded(0.0, ge=0)


@dataclass(frozen=True)
class CSVLogConfig:
    """Append each epoch's losses to `history.csv` as training goes (else written at the end)."""

    enabled: bool = True


@dataclass(frozen=True)
class TerminateOnNaNConfig:
    """Stop training as soon as the loss becomes NaN or infinite."""

    enabled: bool = True


@dataclass(frozen=True)
class CallbacksConfig:
    """Each callback takes `true`/`false` or a mapping of its settings."""

    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    reduce_lr_on_plateau: ReduceLROnPlateauConfig = field(default_factory=ReduceLROnPlateauConfig)
    csv_log: CSVLogConfig = field(default_factory=CSVLogConfig)
    terminate_on_nan: TerminateOnNaNConfig = field(default_factory=TerminateOnNaNConfig)


@dataclass(frozen=True)
class TrainingConfig:
    """How the model is compiled and fitted."""

    optimizer: Literal["adam", "adamw", "nadam", "rmsprop", "sgd", "adagrad"] = "adam"
    learning_rate: float = bounded(0.001, gt=0)
    loss: Literal["mean_squared_error", "mean_absolute_error", "huber"] = "mean_squared_error"
    epochs: int = bounded(200, ge=1)
    batch_size: int = bounded(64, ge=1)
    shuffle: bool = True  # reshuffle the training windows every epoch
    jit_compile: bool = False  # compile the training step with XLA (Keras leaves it off on CPU)
    steps_per_execution: int = bounded(1, ge=1)  # training steps per call into the graph
    fused: bool = True  # on a CPU, train stacked LSTM layers in one graph (lstm_app.training.fused)
    callbacks: CallbacksConfig = field(default_factory=CallbacksConfig)


# --------------------------------------------------------------------------------------------
# evaluation


@dataclass(frozen=True)
class BacktestConfig:
    """Rolling-origin evaluation: `folds` test blocks, each of the test split's size, the last
    being the test split itself; each fold trains on everything before its own val block."""

    folds: int = bounded(1, ge=1)  # 1: the test split alone


@dataclass(frozen=True)
class EvaluationConfig:
    """How the model is judged beyond its test split."""

    backtest: BacktestConfig = field(default_factory=BacktestConfig)


# --------------------------------------------------------------------------------------------
# export

ExportFormat = Literal["keras", "saved_model", "onnx", "tflite"]


@dataclass(frozen=True)
class ExportConfig:
    """Formats to export the trained model to, into RUN/export/, when training ends."""

    formats: tuple[ExportFormat, ...] = ()

    def _finish(self):
        for i, name in enumerate(self.formats):
            if name in self.formats[:i]:
                raise ConfigError(("formats", i), f"'{name}' is listed twice")
        return self


# --------------------------------------------------------------------------------------------
# the whole config

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Config:
    """A whole run: what to train on, what to train, and how."""

    model: ModelConfig
    name: str = "run"  # names the run directory: runs/<name>-<timestamp>
    seed: int = bounded(0, ge=0, le=2**32 - 1)  # seeds weights, shuffling and generated data
    data: DataConfig = field(default_factory=DataConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    export: ExportConfig = field(default_factory=ExportConfig)

    def _finish(self):
        if not NAME_PATTERN.fullmatch(self.name):
            raise ConfigError(
                ("name",),
                f"expected letters, digits, '.', '_' or '-' (starting with a letter or digit), "
                f"got {self.name!r}",
            )
        out = self.model.output_layer_index()
        units, horizon = self.model.layers[out].units, self.data.window.horizon
        if units != horizon:
            raise ConfigError(
                ("model", "layers", out, "units"),
                f"the output layer must have one unit per forecast step: data.window.horizon is "
                f"{horizon}, got units {units}",
            )
        return self


# --------------------------------------------------------------------------------------------
# building the dataclasses from plain YAML values

_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
_BOUND_TEXT = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
_BOUND_CHECK = {
    "ge": lambda v, b: v >= b,
    "gt": lambda v, b: v > b,
    "le": lambda v, b: v <= b,
    "lt": lambda v, b: v < b,
}


def _describe(value) -> str:
    """How a received value is shown in messages."""
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


def _suggest(word: str, choices) -> str:
    """`; did you mean 'x'?` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _is_required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _build(cls, raw, key: tuple):
    """Builds dataclass `cls` from the mapping `raw`, found at `key` in the config."""
    names = [f.name for f in dataclasses.fields(cls)]
    if isinstance(raw, bool) and "enabled" in names:
        raw = {"enabled": raw}
    if not isinstance(raw, dict):
        raise ConfigError(key, f"expected a mapping of keys, got {_describe(raw)}")
    for name in raw:
        if name not in names:
            hint = _suggest(name, names) or f"; expected one of: {', '.join(names)}"
            raise ConfigError((*key, name), f"unknown key{hint}")
    hints = get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in raw:
            values[f.name] = _coerce(raw[f.name], hints[f.name], (*key, f.name), f.metadata)
        elif _is_required(f):
            raise ConfigError((*key, f.name), "missing required key")
        elif dataclasses.is_dataclass(f.default_factory):  # an absent section: its defaults,
            values[f.name] = _build(f.default_factory, {}, (*key, f.name))  # checked as given
    obj = cls(**values)
    if hasattr(obj, "_finish"):
        try:
            obj = obj._finish()
        except ConfigError as err:
            raise ConfigError(key + err.key, err.message) from None
    return obj


def _build_layer(raw, key: tuple):
    """Builds one entry of `model.layers`, choosing its schema by its `type`."""
    if not isinstance(raw, dict):
        raise ConfigError(key, f"expected a mapping with a 'type' key, got {_describe(raw)}")
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in LAYER_CONFIGS:
        choices = ", ".join(LAYER_CONFIGS)
        if kind is None:
            raise ConfigError((*key, "type"), f"missing required key; expected one of: {choices}")
        hint = _suggest(kind, LAYER_CONFIGS)
        raise ConfigError(
            (*key, "type"), f"expected one of: {choices}; got {_describe(kind)}{hint}"
        )
    return _build(LAYER_CONFIGS[kind], raw, key)


def _coerce(value, tp, key: tuple, bounds):
    """Checks that `value` (from YAML) has type `tp` and returns it in the schema's form."""
    origin = get_origin(tp)
    if tp == LayerConfig:
        return _build_layer(value, key)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if value is None and len(options) < len(get_args(tp)):
            return None
        (only,) = options
        return _coerce(value, only, key, bounds)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices or isinstance(value, bool):
            listed = ", ".join(str(c) for c in choices)
            hint = _suggest(value, choices) if isinstance(value, str) else ""
            raise ConfigError(key, f"expected one of: {listed}; got {_describe(value)}{hint}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(key, f"expected a list, got {_describe(value)}")
        (item_type, _) = get_args(tp)
        return tuple(_coerce(v, item_type, (*key, i), {}) for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    if tp is Path:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(key, f"expected a file path, got {_describe(value)}")
        return Path(value)
    return _check_scalar(value, tp, key, bounds)


def _check_scalar(value, tp, key: tuple, bounds):
    """Checks a bool, int, float or str value, and its bounds."""
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
    }[tp]
    bound_text = " and ".join(
        f"{_BOUND_TEXT[op]} {b if isinstance(b, int) else f'{b:g}'}" for op, b in bounds.items()
    )
    expected = _TYPE_NAMES[tp] + (f" {bound_text}" if bound_text else "")
    if not ok or (tp is float and not math.isfinite(value)):
        raise ConfigError(key, f"expected {expected}, got {_describe(value)}")
    if tp is str and not value.strip():
        raise ConfigError(key, "expected a non-empty string, got ''")
    if any(not _BOUND_CHECK[op](value, b) for op, b in bounds.items()):
        raise ConfigError(key, f"expected {expected}, got {_describe(value)}")
    return float(value) if tp is float else value


def config_from_dict(raw: dict) -> Config:
    """Builds and checks a `Config` from plain values (e.g. `yaml.safe_load` of a config file).

    Relative `data.path` values are kept as they are; `load_config` resolves them.
    Raises `ConfigError` naming the key.
    """
    return _build(Config, raw, ())


def config_to_dict(obj) -> dict:
    """The plain-value form of a config (or part of one), ready for `yaml.safe_dump`."""
    if dataclasses.is_dataclass(obj):
        return {f.name: config_to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [config_to_dict(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


# --------------------------------------------------------------------------------------------
# reading YAML files and --set overrides


class _ConfigLoader(yaml.SafeLoader):
    """YAML's safe loader, reading `1e-3` as a number (as YAML 1.2 does) and refusing
    duplicate keys, which the plain safe loader silently lets the last one win."""


_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
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
            f"{path}: expected a mapping of keys at the top level, got {_describe(raw)}"
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


def load_config(path, overrides=()) -> Config:
    """Reads, overrides and checks a YAML config.

    Args:
        path: the YAML file. A relative `data.path` in it resolves against its folder.
        overrides: `KEY=VALUE` strings (as given to `--set`), values parsed as YAML; a
            relative `data.path` given here resolves against the current directory.

    Returns:
        The checked `Config`, with `data.path` absolute.

    Raises:
        UserInputError (ConfigError for a bad key or value), naming the file and the key.
    """
    path = Path(path)
    raw = read_config_file(path)
    if isinstance(raw.get("data"), dict) and "path" in raw["data"]:
        raw["data"]["path"] = _absolute(raw["data"]["path"], path.resolve().parent)
    parsed = [parse_override(text) for text in overrides]
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
