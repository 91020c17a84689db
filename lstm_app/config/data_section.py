"""The `data` section of a config: where the series comes from and how it becomes windows
(`DataConfig`, with `WindowConfig`, `SplitConfig`, `SineConfig` and `TokenizerConfig`), and the
checks that involve several of its own keys (`_finish`). A forecast's data (a series, or a
panel of them: `series_id`) and a classification's (labelled sequences: `label`) are told apart
by their keys here; what the data section implies for the other sections is checked by
`lstm_app.config.rules`.
"""

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lstm_app.config.choices import TRANSFORM_NAMES
from lstm_app.config.model_section import MAX_UNITS
from lstm_app.config.validate import bounded, choice, limit, unique
from lstm_app.errors import ConfigError

COLUMN = "column '{}'"  # how "listed twice" names a column: column 'x' is listed twice


@dataclass(frozen=True)
class WindowConfig:
    """How the series is cut into windows: `input_width` steps in, `horizon` steps out."""

    # limits (here and below) guard against absurd values (a typo, 1e23) that would hang or
    # exhaust memory before any check on the data; each is far above any sensible run.
    # A million steps in: a year of minutes, more than a recurrent layer can learn through.
    # time steps the model sees; auto: derived from the horizon and the season
    # (lstm_app.config.rules.auto_input_width), so a recipe adapts to a new panel
    input_width: int | Literal["auto"] = bounded(12, ge=1, le=limit(1_000_000))
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
    # input columns; default: the target alone
    features: tuple[str, ...] | None = unique(None, item=COLUMN)
    categorical: tuple[str, ...] = ()  # feature columns of labels, one-hot encoded
    # long format, many series: the id column, or several (one series per combination)
    series_id: str | tuple[str, ...] | None = unique(None, item=COLUMN)
    static: tuple[str, ...] = unique((), item=COLUMN)  # per-series label columns, one value each
    # a panel read shard by shard (each Parquet file of the folder data.path), memory bounded
    # by one shard, instead of all at once
    stream: bool = False
    missing: Literal["error", "drop", "ffill", "interpolate"] = "error"  # empty or NA cells
    # of the target, in order; auto: chosen on the validation split (lstm_app.data.choose)
    transforms: tuple[str, ...] | Literal["auto"] = choice((), TRANSFORM_NAMES)
    # steps per season: seasonal naive, MASE, seasonal_diff; at most a year of minutes
    season_length: int = bounded(1, ge=1, le=limit(1_000_000))
    window: WindowConfig = field(default_factory=WindowConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    # fitted on the train split only; series: each series of a panel by its own train part
    # (one series: as standard); window, window_abs, window_last: each window by its own
    # statistics (lstm_app.data.window_scaling)
    scaler: Literal[
        "standard", "minmax", "series", "window", "window_abs", "window_last", "none"
    ] = "standard"
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
        for i, name in enumerate(features):  # (each listed once: the field's `unique`)
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
        are neither the target, the features nor the time (a static column may be an id); each
        is listed once (the fields' `unique`)."""
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
                "series by its own train part's mean and std), window, window_abs or "
                "window_last (each window by its own statistics, inside the exported model) or "
                "none",
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
