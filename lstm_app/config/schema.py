"""The config schema: every key a config may hold, its type, default and bounds, and the
registries of the choices it can name.

A config has the parts `name`/`seed`, `data`, `model`, `training`, `evaluation` and `export`
(`configs/article.yaml` comments every key). The frozen dataclasses below are the schema: a
field's type is what the YAML value must be, its default is used when the key is absent (no
default: the key is required), `bounded` bounds a number, `choice` names a registry. Checks that
involve several keys live in each class's `_finish`. `lstm_app.config.validate` builds them
from plain values; `lstm_app.config.load` reads YAML files and `--set` overrides.

The registries here are the one place where each choice is declared: `LAYER_TYPES` (a layer
type: its config class and its Keras class), `OPTIMIZERS` and `LOSSES` (their Keras names).
Keras classes are named by import path, resolved when the model is built, so that a config is
checked before TensorFlow loads. The target's transforms and the export formats are declared
with their implementations (`lstm_app.data.transforms.TRANSFORMS`,
`lstm_app.serving.formats.FORMATS`), catalogues that import no TensorFlow.
"""

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lstm_app.config.validate import bounded, choice, limit
from lstm_app.data.transforms import TRANSFORMS
from lstm_app.errors import ConfigError
from lstm_app.models.variants import VARIANTS
from lstm_app.registry import Registry
from lstm_app.serving.formats import FORMATS

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


# --------------------------------------------------------------------------------------------
# data


@dataclass(frozen=True)
class WindowConfig:
    """How the series is cut into windows: `input_width` steps in, `horizon` steps out."""

    # limits (here and below) guard against absurd values (a typo, 1e23) that would hang or
    # exhaust memory before any check on the data; each is far above any sensible run.
    # A million steps in: a year of minutes, more than a recurrent layer can learn through.
    input_width: int = bounded(12, ge=1, le=limit(1_000_000))  # time steps the model sees
    # time steps it predicts, right after the input; one output unit each, so at most the
    # output layer's MAX_UNITS
    horizon: int = bounded(1, ge=1, le=limit(MAX_UNITS))


@dataclass(frozen=True)
class SplitConfig:
    """Chronological train/val/test parts of each series: fractions of its rows that sum to 1
    (default 0.7, 0.15, 0.15), or the last `test_last` steps for test and the `val_last` before
    them for validation (the rest trains), the textbook protocol for panels of series."""

    train: float | None = bounded(None, gt=0, lt=1)
    val: float | None = bounded(None, gt=0, lt=1)
    test: float | None = bounded(None, gt=0, lt=1)
    test_last: int | None = bounded(None, ge=1, le=limit(100_000_000))  # steps
    val_last: int | None = bounded(None, ge=1, le=limit(100_000_000))  # steps
    # task: classification: the column saying each sequence's split (train, val or test; val
    # carved from train, 15 % of each label, when the file has none)
    column: str | None = None

    def _finish(self):
        if self.column is not None:
            for name in ("train", "val", "test", "test_last", "val_last"):
                if getattr(self, name) is not None:
                    raise ConfigError((name,), "give data.split.column or the split, not both")
            return self
        if self.test_last is not None or self.val_last is not None:
            for name in ("train", "val", "test"):
                if getattr(self, name) is not None:
                    raise ConfigError(
                        (name,), "give fractions or test_last and val_last (steps), not both"
                    )
            for name in ("test_last", "val_last"):
                if getattr(self, name) is None:
                    raise ConfigError((name,), "required with the other *_last key (steps)")
            return self
        fractions = {
            "train": 0.7 if self.train is None else self.train,
            "val": 0.15 if self.val is None else self.val,
            "test": 0.15 if self.test is None else self.test,
        }
        total = sum(fractions.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ConfigError(
                (),
                f"train + val + test must sum to 1, got {fractions['train']:g} + "
                f"{fractions['val']:g} + {fractions['test']:g} = {total:g}",
            )
        return dataclasses.replace(self, **fractions)


@dataclass(frozen=True)
class SineConfig:
    """A generated series: `amplitude*sin(2*pi*t/period) + trend*t + noise*N(0, 1)`, t = 0, 1..."""

    # 1e8 steps: gigabytes of arrays once prepared; much more would not fit in memory
    length: int = bounded(1000, ge=2, le=limit(100_000_000))  # number of time steps
    period: float = bounded(50.0, gt=0)  # time steps per cycle
    amplitude: float = 1.0
    trend: float = 0.0  # added per time step
    noise: float = bounded(0.1, ge=0)  # standard deviation of Gaussian noise (seeded by `seed`)


@dataclass(frozen=True)
class TokenizerConfig:
    """Text to word ids for `data.text` (Keras's `TextVectorization`, inside the model):
    lower case, punctuation stripped, split on whitespace; the `max_tokens` most frequent
    words of the train texts alone (with the padding and out-of-vocabulary ids); each text
    cut to its first `sequence_length` words (the report counts the texts cut)."""

    max_tokens: int = bounded(10_000, ge=3, le=limit(10_000_000))  # vocabulary, with 2 reserved
    sequence_length: int = bounded(64, ge=1, le=limit(100_000))  # words read per text


SINE_COLUMN = "value"
TIME_PARTS = ("year", "month", "day", "hour", "minute", "second")
EPOCH_FORMATS = {"epoch_s": "s", "epoch_ms": "ms"}  # data.time_format: Unix times, by unit


@dataclass(frozen=True)
class DataConfig:
    """Where the series comes from and how it becomes windows."""

    source: Literal["csv", "sine"] = "csv"
    path: Path | None = None  # the CSV; relative paths resolve against the config's folder
    separator: str | Literal["\t"] = ","  # one character between a CSV's cells: ",", ";", "\t"
    time_column: str | None = None  # parsed as dates; rows must be in increasing time order
    time_columns: tuple[str, ...] | None = None  # or a date split across columns, by part name
    # strptime format of data.time_column, e.g. "%d/%m/%Y"; or epoch_s / epoch_ms (Unix times)
    time_format: str | None = None
    dayfirst: bool | None = None  # numeric dates such as 01/02/1949: true day first, false month
    target: str | None = None  # the column to forecast
    target_units: str | None = None  # what the target is measured in, for reports and export
    features: tuple[str, ...] | None = None  # input columns; default: the target alone
    categorical: tuple[str, ...] = ()  # feature columns of labels, one-hot encoded
    # long format, many series: the id column, or several (one series per combination)
    series_id: str | tuple[str, ...] | None = None
    static: tuple[str, ...] = ()  # per-series label columns, one value per series
    # a panel read shard by shard (each Parquet file of the folder data.path), memory bounded
    # by one shard, instead of all at once
    stream: bool = False
    missing: Literal["error", "drop", "ffill", "interpolate"] = "error"  # empty or NA cells
    # of the target, in order; auto: chosen on the validation split (lstm_app.data.choose)
    transforms: tuple[str, ...] | Literal["auto"] = choice((), TRANSFORMS)
    # steps per season: seasonal naive, MASE, seasonal_diff; at most a year of minutes
    season_length: int = bounded(1, ge=1, le=limit(1_000_000))
    window: WindowConfig = field(default_factory=WindowConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    # fitted on the train split only; series: each series of a panel by its own train part
    # (one series: as standard); window, window_abs: each window by its own statistics
    scaler: Literal["standard", "minmax", "series", "window", "window_abs", "none"] = "standard"
    # quantile levels forecast and scored, strictly increasing in (0, 1), e.g. [0.1, 0.5, 0.9]
    quantiles: tuple[float, ...] = ()
    sine: SineConfig = field(default_factory=SineConfig)  # used when source is sine
    # task: classification (lstm_app.data.sequences): a long CSV, one row per time step
    sequence_id: str | None = None  # the column naming each row's sequence
    order: str | None = None  # the numeric column ordering a sequence's rows
    label: str | None = None  # the column of each sequence's class
    # steps read per sequence (its first ones); default: the longest train sequence
    max_length: int | None = bounded(None, ge=1, le=limit(1_000_000))
    text: str | None = None  # or a column of texts, one per row, each a sequence of words
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)  # with data.text

    def _finish(self):
        if self.label is not None:
            return self._finish_sequences()
        for name in ("sequence_id", "order", "text", "max_length"):
            if getattr(self, name) is not None:
                raise ConfigError(
                    (name,), "reads sequences to classify: set task: classification and data.label"
                )
        if self.split.column is not None:
            raise ConfigError(
                ("split", "column"),
                "splits sequences to classify (task: classification); a series is split in "
                "time: give fractions or test_last and val_last",
            )
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
        self._check_time_format()
        for i, name in enumerate(self.categorical):
            if name == target:
                raise ConfigError(
                    ("categorical", i), f"'{name}' is the target, which must be numeric"
                )
            if name not in features:
                raise ConfigError(
                    ("categorical", i), f"'{name}' is not in data.features; list it there too"
                )
        if (
            self.transforms != "auto"
            and "seasonal_diff" in self.transforms
            and (self.season_length < 2)
        ):
            raise ConfigError(
                ("transforms",), "seasonal_diff needs data.season_length of 2 or more, got 1"
            )
        self._check_quantiles()
        series_id = self._check_panel(target, features)
        return dataclasses.replace(self, target=target, features=features, series_id=series_id)

    def _finish_sequences(self):
        """`task: classification`'s data: labelled sequences, numeric (`sequence_id`, `order`,
        `features`) or texts (`text`); every key that shapes a forecast refused."""
        if self.source != "csv" or self.path is None:
            raise ConfigError(("path",), "required with data.label: the CSV of the sequences")
        forecast_only = {
            "target": self.target is not None,
            "target_units": self.target_units is not None,
            "time_column": self.time_column is not None,
            "time_columns": self.time_columns is not None,
            "time_format": self.time_format is not None,
            "dayfirst": self.dayfirst is not None,
            "categorical": bool(self.categorical),
            "series_id": self.series_id is not None,
            "static": bool(self.static),
            "stream": self.stream,
            "missing": self.missing != "error",
            "transforms": self.transforms != (),
            "season_length": self.season_length != 1,
            "window": self.window != WindowConfig(),
            "quantiles": bool(self.quantiles),
            "split.test_last": self.split.test_last is not None,
        }
        for name, given in forecast_only.items():
            if given:
                raise ConfigError(
                    tuple(name.split(".")),
                    "shapes a forecast; a classification (data.label) reads whole labelled "
                    "sequences: remove it",
                )
        if self.scaler not in ("standard", "minmax", "none"):
            raise ConfigError(
                ("scaler",),
                f"{self.scaler} scales a forecast's series or windows; a classification takes "
                "standard, minmax or none (each feature, from the train sequences)",
            )
        if self.text is not None:
            for name in ("sequence_id", "order", "features", "max_length"):
                if getattr(self, name) is not None:
                    raise ConfigError(
                        (name,),
                        "reads numeric sequences; with data.text each row's text is the "
                        "sequence (its length: data.tokenizer.sequence_length)",
                    )
            return self
        if self.tokenizer != TokenizerConfig():
            raise ConfigError(("tokenizer",), "tokenizes data.text; set it, or remove this key")
        for name, what in (
            ("sequence_id", "the column naming each row's sequence"),
            ("order", "the numeric column ordering a sequence's rows"),
            ("features", "the numeric columns of each time step"),
        ):
            if not getattr(self, name):
                raise ConfigError((name,), f"required with data.label (or give data.text): {what}")
        names = {self.sequence_id: "data.sequence_id", self.order: "data.order"}
        if self.label in names:
            raise ConfigError(("label",), f"'{self.label}' is already {names[self.label]}")
        names[self.label] = "data.label"
        for i, name in enumerate(self.features):
            if name in names:
                raise ConfigError(("features", i), f"'{name}' is already {names[name]}")
            if name in self.features[:i]:
                raise ConfigError(("features", i), f"column '{name}' is listed twice")
        return self

    def _check_quantiles(self):
        for i, level in enumerate(self.quantiles):
            if not 0 < level < 1:
                raise ConfigError(("quantiles", i), f"expected a level in (0, 1), got {level}")
            if i and level <= self.quantiles[i - 1]:
                raise ConfigError(
                    ("quantiles", i),
                    f"levels must be sorted, each above the one before: {level} comes after "
                    f"{self.quantiles[i - 1]}",
                )

    def _check_panel(self, target: str, features) -> tuple[str, ...] | None:
        """`series_id` as a tuple of columns (None for one series); its columns and `static`'s
        are neither the target, the features nor the time (a static column may be an id)."""
        if self.series_id is None:
            if self.static:
                raise ConfigError(("static",), "per-series columns need data.series_id; set it")
            if self.stream:
                raise ConfigError(
                    ("stream",), "streams the shards of a panel; set data.series_id (its ids)"
                )
            return None
        if self.source != "csv":
            raise ConfigError(("series_id",), "needs data.source: csv (a long-format file)")
        if self.scaler in ("standard", "minmax"):
            raise ConfigError(
                ("scaler",),
                f"{self.scaler} scales one series; a panel (data.series_id) takes series (each "
                "series by its own train part's mean and std), window or window_abs (each "
                "window by its own statistics, inside the exported model) or none",
            )
        ids = (self.series_id,) if isinstance(self.series_id, str) else self.series_id
        if not ids:
            raise ConfigError(("series_id",), "expected a column name or a list of them, got []")
        taken = {name: "data.features" for name in features}
        taken |= {name: "data.time_columns" for name in self.time_columns or ()}
        taken |= {target: "data.target", self.time_column: "data.time_column"}
        one = isinstance(self.series_id, str)
        for key, names in (("series_id", ids), ("static", self.static)):
            for i, name in enumerate(names):
                where = (key,) if one and key == "series_id" else (key, i)
                if name in taken:
                    raise ConfigError(where, f"'{name}' is already {taken[name]}; give another")
                if name in names[:i]:
                    raise ConfigError(where, f"column '{name}' is listed twice")
        # a static column may be one of the ids (a region's state)
        return ids

    def _check_time_format(self):
        if self.time_format is not None:
            if self.time_column is None:
                raise ConfigError(
                    ("time_format",), "reads data.time_column; set it, or remove this key"
                )
            if "%" not in self.time_format and self.time_format not in EPOCH_FORMATS:
                raise ConfigError(
                    ("time_format",),
                    "expected a strptime format such as '%d/%m/%Y', or "
                    f"{' or '.join(EPOCH_FORMATS)} (Unix times), got '{self.time_format}'",
                )
        if self.dayfirst is not None:
            if self.time_column is None:
                raise ConfigError(
                    ("dayfirst",), "reads data.time_column; set it, or remove this key"
                )
            if self.time_format is not None:
                raise ConfigError(("dayfirst",), "give data.time_format or data.dayfirst, not both")

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
    units: int | Literal["auto"] = bounded(ge=1, le=MAX_UNITS)  # auto: see Config
    return_sequences: bool = False  # true to feed another recurrent layer
    activation: Activation = "tanh"
    recurrent_activation: Activation = "sigmoid"
    dropout: float = bounded(0.0, ge=0, lt=1)  # on the inputs
    recurrent_dropout: float = bounded(0.0, ge=0, lt=1)  # on the recurrent state
    # read the sequence forwards and backwards (keras.layers.Bidirectional), the two outputs
    # concatenated: 2 x units out; trains unfused
    bidirectional: bool = False


GateVariant = Literal[tuple(VARIANTS)]  # the variants of lstm_app.models.layers.GateLSTM


@dataclass(frozen=True)
class GateLSTMLayerConfig(RecurrentLayerConfig):
    """`gate_lstm`: lstm_app.models.layers.GateLSTM, the LSTM written gate by gate
    (docs/equations.md)."""

    variant: GateVariant = "vanilla"  # the standard equations, or a variant of them


@dataclass(frozen=True)
class SimpleRNNLayerConfig:
    """`simple_rnn`: keras.layers.SimpleRNN with these arguments."""

    type: str
    units: int | Literal["auto"] = bounded(ge=1, le=MAX_UNITS)  # auto: see Config
    return_sequences: bool = False
    activation: Activation = "tanh"
    dropout: float = bounded(0.0, ge=0, lt=1)
    recurrent_dropout: float = bounded(0.0, ge=0, lt=1)


@dataclass(frozen=True)
class DenseLayerConfig:
    """`dense`: keras.layers.Dense, applied to the last axis."""

    type: str
    units: int | Literal["auto"] = bounded(ge=1, le=MAX_UNITS)  # auto: see Config
    activation: Activation = "linear"


@dataclass(frozen=True)
class DropoutLayerConfig:
    """`dropout`: keras.layers.Dropout."""

    type: str
    rate: float = bounded(ge=0, lt=1)


@dataclass(frozen=True)
class EmbeddingLayerConfig:
    """`embedding`: keras.layers.Embedding of the word ids of `data.text` (a text classifier's
    first layer): one learnt vector of `output_dim` numbers per word of the vocabulary
    (`data.tokenizer.max_tokens`), the padding masked."""

    type: str
    output_dim: int = bounded(ge=1, le=MAX_UNITS)


@dataclass(frozen=True)
class LayerType:
    """What a layer `type` of `model.layers` is: the dataclass its keys are checked against,
    the Keras layer class built with them (an import path, `module.Class`, resolved by
    `lstm_app.models.build`), and whether it is recurrent (reads a sequence)."""

    config: type
    keras: str
    recurrent: bool


LAYER_TYPES = Registry("layer type")
LAYER_TYPES.add("lstm", LayerType(RecurrentLayerConfig, "keras.layers.LSTM", recurrent=True))
LAYER_TYPES.add(
    "gate_lstm", LayerType(GateLSTMLayerConfig, "lstm_app.models.layers.GateLSTM", recurrent=True)
)
LAYER_TYPES.add("gru", LayerType(RecurrentLayerConfig, "keras.layers.GRU", recurrent=True))
LAYER_TYPES.add(
    "simple_rnn", LayerType(SimpleRNNLayerConfig, "keras.layers.SimpleRNN", recurrent=True)
)
LAYER_TYPES.add("dense", LayerType(DenseLayerConfig, "keras.layers.Dense", recurrent=False))
LAYER_TYPES.add("dropout", LayerType(DropoutLayerConfig, "keras.layers.Dropout", recurrent=False))
LAYER_TYPES.add(
    "embedding", LayerType(EmbeddingLayerConfig, "keras.layers.Embedding", recurrent=False)
)
RECURRENT_TYPES = tuple(name for name, kind in LAYER_TYPES.items() if kind.recurrent)


@dataclass(frozen=True)
class ModelConfig:
    """The stacked layers, in order, after an input of shape `(None, n_features)`."""

    layers: tuple[object, ...] = field(metadata={"by_type": LAYER_TYPES})  # see LAYER_TYPES
    # each static label column (data.static) as a learnt vector of this size; None: one-hot
    static_embedding: int | None = bounded(None, ge=1, le=limit(10_000))

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

OPTIMIZERS = Registry("optimizer")  # name -> the Keras optimizer class, by import path
OPTIMIZERS.add("adam", "keras.optimizers.Adam")
OPTIMIZERS.add("adamw", "keras.optimizers.AdamW")
OPTIMIZERS.add("nadam", "keras.optimizers.Nadam")
OPTIMIZERS.add("rmsprop", "keras.optimizers.RMSprop")
OPTIMIZERS.add("sgd", "keras.optimizers.SGD")
OPTIMIZERS.add("adagrad", "keras.optimizers.Adagrad")

LOSSES = Registry("loss")  # name -> the loss `model.compile(loss=...)` is given (Keras's name)
LOSSES.add("mean_squared_error", "mean_squared_error")
LOSSES.add("mean_absolute_error", "mean_absolute_error")
LOSSES.add("huber", "huber")
# distribution heads (lstm_app.models.heads): quantiles of data.quantiles, or a normal's mean
# and scale; the model forecasts (batch, horizon, Q or 2)
LOSSES.add("quantile", "lstm_app.models.heads.PinballLoss")
LOSSES.add("gaussian", "lstm_app.models.heads.GaussianNLL")
DISTRIBUTION_LOSSES = ("quantile", "gaussian")
# task: classification: sparse categorical cross-entropy of the class probabilities (binary
# cross-entropy of the second class's for two classes; lstm_app.models.classifier)
LOSSES.add("cross_entropy", "lstm_app.models.classifier.CrossEntropy")
DEFAULT_LOSS = {"forecast": "mean_squared_error", "classification": "cross_entropy"}


def interval_quantiles(level: float) -> tuple[float, float]:
    """The quantile levels bounding the central `level` % interval: 80 -> (0.1, 0.9)."""
    tail = (1 - level / 100) / 2
    return round(tail, 10), round(1 - tail, 10)


def quantile_levels(quantiles, interval_levels) -> list[float]:
    """The quantile levels forecast and scored: `data.quantiles` and the bounds of every
    interval (`evaluation.intervals.levels`), sorted."""
    bounds = {q for level in interval_levels for q in interval_quantiles(level)}
    return sorted(set(map(float, quantiles)) | bounds)


@dataclass(frozen=True)
class EarlyStoppingConfig:
    """Stop when `monitor` has not improved by `min_delta` for `patience` epochs."""

    enabled: bool = False
    monitor: Monitor = "val_loss"
    patience: int = bounded(20, ge=0, le=limit(1_000_000))  # as training.epochs
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
    patience: int = bounded(10, ge=0, le=limit(1_000_000))  # as training.epochs
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
class TensorBoardConfig:
    """Write TensorBoard logs into RUN/tensorboard/: `tensorboard --logdir RUN/tensorboard`."""

    enabled: bool = False
    update_freq: Literal["epoch", "batch"] | int = "epoch"  # or every N batches
    histogram_freq: int = bounded(0, ge=0, le=limit(1_000_000))  # weights' histograms, epochs


@dataclass(frozen=True)
class CallbacksConfig:
    """Each callback takes `true`/`false` or a mapping of its settings."""

    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    reduce_lr_on_plateau: ReduceLROnPlateauConfig = field(default_factory=ReduceLROnPlateauConfig)
    csv_log: CSVLogConfig = field(default_factory=CSVLogConfig)
    terminate_on_nan: TerminateOnNaNConfig = field(default_factory=TerminateOnNaNConfig)
    tensorboard: TensorBoardConfig = field(default_factory=TensorBoardConfig)


@dataclass(frozen=True)
class DistributeConfig:
    """Train under a `tf.distribute` strategy: `none` (the default); `mirrored`, one replica
    on each of `devices` (default: every visible GPU; with none, the CPU alone); or
    `multi_worker`, one replica on each GPU (else the CPU) of several machines, each running
    `lstm-train --workers ... --worker-index I` (or with TF_CONFIG set). Each global batch of
    `training.batch_size` windows is split across the replicas. The learning rate is not
    rescaled."""

    strategy: Literal["none", "mirrored", "multi_worker"] = "none"
    devices: tuple[str, ...] = ()  # e.g. ["/gpu:0", "/gpu:1"]; TensorFlow's device names

    def _finish(self):
        if self.devices and self.strategy != "mirrored":
            raise ConfigError(
                ("devices",),
                "lists devices for strategy: mirrored (multi_worker takes every GPU of each "
                "worker, else its CPU)",
            )
        for i, name in enumerate(self.devices):
            if name in self.devices[:i]:
                raise ConfigError(("devices", i), f"'{name}' is listed twice")
        return self


@dataclass(frozen=True)
class TrainingConfig:
    """How the model is compiled and fitted."""

    optimizer: str = choice("adam", OPTIMIZERS)
    learning_rate: float = bounded(0.001, gt=0)
    # default: mean_squared_error for a forecast, cross_entropy for a classification
    loss: str | None = choice(None, LOSSES)
    # task: classification: balanced weighs each train sequence by n / (classes * its class's
    # count), so that every class weighs the same in the loss
    class_weights: Literal["none", "balanced"] = "none"
    # a million epochs: weeks of training even on a tiny series; more is a typo
    epochs: int = bounded(200, ge=1, le=limit(1_000_000))
    # a million windows a batch: more than a step can hold in memory for any real window
    batch_size: int = bounded(64, ge=1, le=limit(1_000_000))
    shuffle: bool = True  # reshuffle the training windows every epoch
    # train on every stride-th window of each series (1: every window)
    stride: int = bounded(1, ge=1, le=limit(1_000_000))
    # each epoch, draw this many training windows of each series (with replacement), from the
    # seed and the epoch alone (as NeuralForecast's windows_batch_size); None: every window
    windows_per_series: int | None = bounded(None, ge=1, le=limit(1_000_000))
    # compile the training step with XLA; auto: where it pays (lstm_app.training.speed)
    jit_compile: bool | Literal["auto"] = "auto"
    # steps per call into the graph; auto: lstm_app.training.speed. 10,000 steps a call: the
    # gain stops after a few dozen (see README, Training speed)
    steps_per_execution: int | Literal["auto"] = bounded("auto", ge=1, le=limit(10_000))
    fused: bool = True  # on a CPU, train stacked LSTM layers in one graph (lstm_app.training.fused)
    callbacks: CallbacksConfig = field(default_factory=CallbacksConfig)
    distribute: DistributeConfig = field(default_factory=DistributeConfig)


# --------------------------------------------------------------------------------------------
# evaluation


@dataclass(frozen=True)
class BacktestConfig:
    """Rolling-origin evaluation: `folds` test blocks, each of the test split's size, the last
    being the test split itself; each fold trains on everything before its own val block."""

    # 1000 folds: each trains a model; more would run for months (and the list of folds alone
    # would exhaust memory at 1e23)
    folds: int = bounded(1, ge=1, le=limit(1000))  # 1: the test split alone


@dataclass(frozen=True)
class IntervalsConfig:
    """Central prediction intervals scored on the test windows: `levels` in percent (80: the
    0.1 and 0.9 quantiles), calibrated on the validation windows with `calibrate: conformal`."""

    levels: tuple[float, ...] = ()  # e.g. [80, 95]; each in (0, 100)
    calibrate: Literal["none", "conformal"] = "none"

    def _finish(self):
        for i, level in enumerate(self.levels):
            if not 0 < level < 100:
                raise ConfigError(("levels", i), f"expected a percentage in (0, 100), got {level}")
            if level in self.levels[:i]:
                raise ConfigError(("levels", i), f"{level} is listed twice")
        if self.calibrate != "none" and not self.levels:
            raise ConfigError(("calibrate",), "calibrates intervals: list their levels too")
        return self


@dataclass(frozen=True)
class EvaluationConfig:
    """How the model is judged beyond its test split."""

    backtest: BacktestConfig = field(default_factory=BacktestConfig)
    intervals: IntervalsConfig = field(default_factory=IntervalsConfig)


# --------------------------------------------------------------------------------------------
# export


@dataclass(frozen=True)
class ExportConfig:
    """Formats to export the trained model to, into RUN/export/, when training ends."""

    formats: tuple[str, ...] = choice((), FORMATS)  # see lstm_app.serving.formats

    def _finish(self):
        for i, name in enumerate(self.formats):
            if name in self.formats[:i]:
                raise ConfigError(("formats", i), f"'{name}' is listed twice")
        return self


# --------------------------------------------------------------------------------------------
# tracking


@dataclass(frozen=True)
class MLflowConfig:
    """Log the finished run to MLflow (the extra `lstm-app[tracking]`): the resolved config as
    params, each epoch's losses, the metrics of every split and the baselines', the plots and
    the model. The store: `MLFLOW_TRACKING_URI` when set, else `mlflow.db` (SQLite, no server)
    beside the run directory: `runs/mlflow.db`, `mlflow ui --backend-store-uri
    sqlite:///runs/mlflow.db`."""

    enabled: bool = False
    experiment: str | None = None  # the MLflow experiment; default: the config's name


@dataclass(frozen=True)
class TrackingConfig:
    """Where else the run is recorded (TensorBoard: `training.callbacks.tensorboard`)."""

    mlflow: MLflowConfig = field(default_factory=MLflowConfig)


# --------------------------------------------------------------------------------------------
# the whole config

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Config:
    """A whole run: what to train on, what to train, and how."""

    model: ModelConfig
    name: str = "run"  # names the run directory: runs/<name>-<timestamp>
    # forecast a series (data.target), or classify labelled sequences (data.label)
    task: Literal["forecast", "classification"] = "forecast"
    seed: int = bounded(0, ge=0, le=2**32 - 1)  # seeds weights, shuffling and generated data
    data: DataConfig = field(default_factory=DataConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)

    def _check_distribution(self):
        """What a distribution head (`training.loss: quantile | gaussian`) and the intervals
        need: the quantile levels, the median among them, each interval's bounds."""
        loss, quantiles = self.training.loss, self.data.quantiles
        if loss == "quantile":
            if not quantiles:
                raise ConfigError(
                    ("data", "quantiles"),
                    "training.loss: quantile forecasts these levels; list them, e.g. "
                    "[0.1, 0.5, 0.9]",
                )
            if 0.5 not in quantiles:
                raise ConfigError(
                    ("data", "quantiles"),
                    f"must hold 0.5, the median, the point forecast; got {list(quantiles)}",
                )
            for i, level in enumerate(self.evaluation.intervals.levels):
                missing = [q for q in interval_quantiles(level) if q not in quantiles]
                if missing:
                    raise ConfigError(
                        ("evaluation", "intervals", "levels", i),
                        f"the {level:g}% interval is bounded by the {missing[0]} quantile, not in "
                        f"data.quantiles {list(quantiles)}; add it",
                    )
        if loss in DISTRIBUTION_LOSSES and self.data.stream:
            raise ConfigError(
                ("training", "loss"), f"{loss} is not yet for a panel read shard by shard"
            )

    def _finish_classification(self):
        """`task: classification`: labelled sequences in, one probability per class out
        (`lstm_app.models.classifier`); what only a forecast does refused."""
        if self.data.label is None:
            raise ConfigError(
                ("data", "label"), "required with task: classification: the column of the class"
            )
        if self.training.loss != "cross_entropy":
            raise ConfigError(
                ("training", "loss"),
                f"a classification trains with cross_entropy, got {self.training.loss}",
            )
        refused = {
            ("evaluation", "backtest", "folds"): self.evaluation.backtest.folds > 1,
            ("evaluation", "intervals", "levels"): bool(self.evaluation.intervals.levels),
            ("training", "distribute", "strategy"): self.training.distribute.strategy != "none",
            ("training", "windows_per_series"): self.training.windows_per_series is not None,
            ("training", "stride"): self.training.stride != 1,
            ("model", "static_embedding"): self.model.static_embedding is not None,
            ("tracking", "mlflow", "enabled"): self.tracking.mlflow.enabled,
        }
        for key, given in refused.items():
            if given:
                raise ConfigError(key, "not (yet) for task: classification; remove it")
        if self.data.text is not None:  # (lstm_app.serving.classify.TEXT_FORMATS)
            for i, name in enumerate(self.export.formats):
                if name not in ("keras", "saved_model"):
                    raise ConfigError(
                        ("export", "formats", i),
                        f"{name} cannot hold a text model's tokenizer (string ops); export "
                        "keras or saved_model",
                    )
        layers = self.model.layers
        for i, layer in enumerate(layers):
            if layer.type == "embedding" and (i != 0 or self.data.text is None):
                raise ConfigError(
                    ("model", "layers", i, "type"),
                    "embedding reads the words of data.text: the first layer of a text "
                    "classifier only",
                )
        if self.data.text is not None and layers[0].type != "embedding":
            raise ConfigError(
                ("model", "layers", 0, "type"),
                f"a text classifier starts with an embedding layer (words to vectors), got "
                f"{layers[0].type}",
            )
        last = layers[-1]
        if last.type != "dense":
            raise ConfigError(
                ("model", "layers", len(layers) - 1),
                "a classifier ends with a dense layer of units: auto (one per class)",
            )
        if last.activation != "linear":
            raise ConfigError(
                ("model", "layers", len(layers) - 1, "activation"),
                f"the output layer gives scores (linear), which the model turns into "
                f"probabilities itself (softmax); got {last.activation}",
            )
        for i, layer in enumerate(layers[:-1]):
            if getattr(layer, "units", None) == "auto":
                raise ConfigError(
                    ("model", "layers", i, "units"),
                    "auto is for the output layer only (one unit per class); give a number",
                )
        return self

    def _check_panel_run(self):
        """What a panel run (`data.series_id`) does not do yet (issue 15, in progress)."""
        if self.data.series_id is None:
            return
        panel = "not yet with data.series_id (a panel run)"
        if self.export.formats and self.data.scaler == "series" and self.data.transforms:
            raise ConfigError(
                ("export", "formats"),
                "a panel scaled series by series (data.scaler: series) with data.transforms is "
                "not exported yet: set data.scaler: window (each window scaled inside the "
                "model), no transforms, or formats: []",
            )
        if self.evaluation.backtest.folds > 1:
            raise ConfigError(("evaluation", "backtest", "folds"), f"{panel}; set it to 1")
        if self.data.transforms == "auto":
            raise ConfigError(("data", "transforms"), f"auto is {panel}; give the transforms")

    def _finish(self):
        if not NAME_PATTERN.fullmatch(self.name):
            raise ConfigError(
                ("name",),
                f"expected letters, digits, '.', '_' or '-' (starting with a letter or digit), "
                f"got {self.name!r}",
            )
        loss = self.training.loss or DEFAULT_LOSS[self.task]
        if loss != self.training.loss:
            self = dataclasses.replace(self, training=dataclasses.replace(self.training, loss=loss))
        if self.task == "classification":
            return self._finish_classification()
        if self.data.label is not None:
            raise ConfigError(("data", "label"), "classifies sequences: set task: classification")
        if loss == "cross_entropy":
            raise ConfigError(
                ("training", "loss"),
                "cross_entropy is for task: classification; a forecast "
                "takes mean_squared_error, mean_absolute_error, huber, quantile or gaussian",
            )
        if self.training.class_weights != "none":
            raise ConfigError(
                ("training", "class_weights"), "weighs the classes of task: classification"
            )
        for i, layer in enumerate(self.model.layers):
            if layer.type == "embedding":
                raise ConfigError(
                    ("model", "layers", i, "type"),
                    "embedding reads the words of data.text (task: classification)",
                )
        self._check_panel_run()
        self._check_distribution()
        if self.training.distribute.strategy == "multi_worker" and self.data.transforms == "auto":
            raise ConfigError(
                ("data", "transforms"),
                "auto trains a model per candidate on one machine; under strategy: multi_worker "
                "give the transforms (choose them first with a single-machine run)",
            )
        if self.model.static_embedding is not None and not self.data.static:
            raise ConfigError(
                ("model", "static_embedding"),
                "embeds the static label columns, and data.static lists none; list them there, "
                "or remove this key",
            )
        out = self.model.output_layer_index()
        for i, layer in enumerate(self.model.layers):
            if getattr(layer, "units", None) == "auto" and i != out:
                raise ConfigError(
                    ("model", "layers", i, "units"),
                    "auto is for the output layer only (one unit per forecast step); give a number",
                )
        units, horizon = self.model.layers[out].units, self.data.window.horizon
        if units in ("auto", 1) and units != horizon:  # 1: a one-step layout, given a horizon
            layers = list(self.model.layers)
            layers[out] = dataclasses.replace(layers[out], units=horizon)
            model = dataclasses.replace(self.model, layers=tuple(layers))
            return dataclasses.replace(self, model=model)
        if units != horizon:
            raise ConfigError(
                ("model", "layers", out, "units"),
                f"the output layer must have one unit per forecast step: data.window.horizon is "
                f"{horizon}, got units {units}",
            )
        return self
