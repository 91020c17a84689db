"""Preparing the data: a series encoded, transformed, split by time and scaled on its train
split, ready to be windowed.

    split_bounds(n, cfg.data.split)  -> row ranges       train | val | test, in time order
    prepare_data(cfg.data)           -> PreparedData     encoded, transformed, scaled splits
    prepare_candidates(cfg.data)     -> {transforms: PreparedData}, skipped   for `auto`
    with_chosen_transforms(cfg, data) -> Config          `data.transforms: auto` made explicit

Everything learnt from the data is learnt from the train split alone: the scalers' statistics
and the categories of one-hot columns. Windows are cut inside each split, so none crosses a
split boundary (`lstm_app.data.windows`).
"""

import math
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from lstm_app.config.schema import Config, DataConfig, SplitConfig
from lstm_app.data.choose import AUTO, TransformChoice, candidate_name, candidates
from lstm_app.data.feed import WindowFeed
from lstm_app.data.series import TimeSeries, load_series
from lstm_app.data.transforms import TargetPipeline, TransformError
from lstm_app.data.window_scaling import WINDOW_SCALERS, WindowScaling
from lstm_app.data.windows import count_windows, window_views
from lstm_app.errors import DataError, UserInputError, without_source

SPLITS = ("train", "val", "test")
MIN_SPREAD = (
    1e-30  # the least a varying column may vary by: float32's normal numbers end near 1e-38
)


def split_bounds(n_rows: int, split: SplitConfig) -> dict[str, tuple[int, int]]:
    """Row ranges `[start, stop)` of the train, val and test splits, in time order.

    Example: 144 rows with fractions 0.6/0.2/0.2 -> train (0, 86), val (86, 115), test (115, 144);
    with `test_last: 8, val_last: 8` -> train (0, 128), val (128, 136), test (136, 144).
    """
    if split.test_last is not None:
        test = max(n_rows - split.test_last, 0)
        val = max(test - split.val_last, 0)
        return {"train": (0, val), "val": (val, test), "test": (test, n_rows)}
    n_train = math.floor(n_rows * split.train + 0.5)
    n_val = math.floor(n_rows * split.val + 0.5)
    return {
        "train": (0, n_train),
        "val": (n_train, n_train + n_val),
        "test": (n_train + n_val, n_rows),
    }


@dataclass(frozen=True)
class Scaler:
    """Per-column scaling `(x - offset) / scale`, with statistics of the train split.

    `standard` (and `series`, which a panel fits to each series): offset = mean, scale =
    standard deviation; `minmax`: offset = min, scale = max - min; `none`, `window` and
    `window_abs`: offset 0, scale 1 (the window scalers scale each window by its own
    statistics: `lstm_app.data.window_scaling`). A column constant in the train split gets
    scale 1, so it stays finite.

    Attributes:
        kind: one of `data.scaler`'s values.
        offset: `(columns,)` float64.
        scale: `(columns,)` float64.
    """

    kind: str
    offset: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, kind: str, values: np.ndarray, passthrough=None) -> "Scaler":
        """Fits to `values` of shape `(time, columns)`; `passthrough` `(columns,)` marks
        columns left as they are (offset 0, scale 1), such as one-hot columns."""
        if kind in ("standard", "series"):
            offset, scale = values.mean(axis=0), values.std(axis=0)
        elif kind == "minmax":
            offset, scale = values.min(axis=0), values.max(axis=0) - values.min(axis=0)
        elif kind in ("none", *WINDOW_SCALERS):
            offset, scale = np.zeros(values.shape[1]), np.ones(values.shape[1])
        else:
            raise ValueError(
                f"kind must be standard, series, minmax, none, {', '.join(WINDOW_SCALERS)}, "
                f"got {kind!r}"
            )
        scale = np.where(scale > 0, scale, 1.0)
        if passthrough is not None:
            offset = np.where(passthrough, 0.0, offset)
            scale = np.where(passthrough, 1.0, scale)
        return cls(kind, offset, scale)

    def transform(self, values: np.ndarray) -> np.ndarray:
        """`(..., columns)` original units -> scaled."""
        return (values - self.offset) / self.scale

    def inverse_transform(self, values: np.ndarray) -> np.ndarray:
        """`(..., columns)` scaled -> original units."""
        return values * self.scale + self.offset

    def to_dict(self, columns) -> dict:
        """`{"kind": .., "columns": {name: {"offset": .., "scale": ..}}}`, for JSON."""
        return {
            "kind": self.kind,
            "columns": {
                name: {"offset": float(o), "scale": float(s)}
                for name, o, s in zip(columns, self.offset, self.scale, strict=True)
            },
        }


@dataclass(frozen=True)
class SplitData:
    """One chronological split: the scaled series the model sees, and the original target.

    Attributes:
        name: `train`, `val` or `test`.
        features: `(time, n_features)` float32: encoded, transformed, scaled.
        target: `(time,)` float32: the target transformed and scaled, as the model learns it.
        raw_target: `(time,)` float64, the target in original units.
        times: `(time,)` time stamps (or steps).
        observed: `(time,)` bool, False where the target was filled in (see `scored`).
        first_row: the row of the split's first row in the whole series (`PreparedData.series`).
        input_width, horizon: the window geometry.
        starts: for a split that joins several series end to end (`join_splits`), the first
            row of each window, none crossing from one series into the next; None: every
            window of the rows.
        window_scaling: with `data.scaler: window` or `window_abs`, how each window is scaled
            by its own statistics (`features` and `target` are then unscaled); else None.
        series_windows: with `starts`, how many of them each series has, in order (their
            starts come series by series); None: one series.
        padded: rows led by copies of the series' first row, not observed, so that a series
            shorter than a window's inputs is forecast (`prepare_data(pad_test=True)`); its
            `first_row` is then negative by as many.
    """

    name: str
    features: np.ndarray
    target: np.ndarray
    raw_target: np.ndarray
    times: np.ndarray
    observed: np.ndarray
    first_row: int
    input_width: int
    horizon: int
    starts: np.ndarray | None = None
    window_scaling: WindowScaling | None = None
    series_windows: np.ndarray | None = None
    padded: int = 0

    @property
    def n_windows(self) -> int:
        if self.starts is not None:
            return len(self.starts)
        return count_windows(len(self.target), self.input_width, self.horizon)

    def windows(self):
        """Scaled inputs `(n, input_width, n_features)` and targets `(n, horizon)`, as the
        model sees them: views, or copies (the windows of `starts`, or scaled window by window
        with `window_scaling`)."""
        inputs, targets = window_views(self.features, self.target, self.input_width, self.horizon)
        if self.starts is not None:  # joined series: their windows only, none across
            inputs, targets = inputs[self.starts], targets[self.starts]
        if self.window_scaling is None:
            return inputs, targets
        loc, scale = self.target_statistics()
        scaled = self.window_scaling.scale_inputs(inputs.astype(np.float64))
        return scaled.astype(np.float32), ((targets - loc) / scale).astype(np.float32)

    def target_statistics(self):
        """With `window_scaling`: `loc, scale` `(n, 1)` of each window's target over its input
        rows, which scale its targets (see `lstm_app.data.window_scaling`)."""
        starts = np.arange(self.n_windows) if self.starts is None else self.starts
        history = self.target.astype(np.float64)[starts[:, None] + np.arange(self.input_width)]
        return self.window_scaling.target_statistics(history)

    def raw_target_windows(self) -> np.ndarray:
        """The targets of every window in original units, `(n, horizon)`."""
        return window_views(
            self.raw_target[:, None], self.raw_target, self.input_width, self.horizon
        )[1]

    def target_times(self) -> np.ndarray:
        """The time stamp of each window's each target step, `(n, horizon)`."""
        steps = np.arange(len(self.times))
        return self.times[window_views(steps[:, None], steps, self.input_width, self.horizon)[1]]

    def scored(self) -> np.ndarray:
        """`(n,)` bool: the windows whose every target was observed, not filled in. Metrics
        are computed on these alone, for the model and the baselines alike."""
        observed = self.observed.astype(np.float64)
        return window_views(observed[:, None], observed, self.input_width, self.horizon)[1].all(1)

    def origins(self) -> np.ndarray:
        """`(n,)` the row, in the whole series, of each window's last input: its forecast origin."""
        return self.first_row + np.arange(self.n_windows) + self.input_width - 1


@dataclass(frozen=True)
class PreparedData(WindowFeed):
    """A series cleaned, encoded, transformed, split by time and scaled, ready to be windowed.

    Attributes:
        series: the whole cleaned series, in original units.
        pipeline: the target's transforms (`data.transforms`), with every stage of the series.
        splits: `{"train": SplitData, "val": ..., "test": ...}`.
        feature_names: the model's input columns: one-hot columns as `name=label`.
        feature_scaler: fitted on the train split's input columns (one-hot columns pass).
        target_scaler: fitted on the train split's transformed target (one column).
        season_length: steps per season (`data.season_length`).
        prepared_from: what it was prepared from, `{"data": DataConfig, "seed": int}` (None
            when built by hand); `lstm_app.pipeline.train` refuses data of another config.
        transform_choice: what `data.transforms: auto` chose and why (set by
            `lstm_app.jobs.series`); None without auto.
        baselines: the baselines its forecasts are compared with (`evaluation.baselines`,
            set by the job); None: all of them.
        memo: what is computed once per series and asked for again (the baselines'
            forecasts, `lstm_app.evaluation.baselines`); not part of its identity.

    It feeds its own training (`WindowFeed`): its train split's windows, batched.
    """

    series: TimeSeries
    pipeline: TargetPipeline
    splits: dict[str, SplitData]
    feature_names: tuple[str, ...]
    feature_scaler: "Scaler"
    target_scaler: "Scaler"
    season_length: int
    prepared_from: dict | None = None
    transform_choice: TransformChoice | None = None
    baselines: tuple[str, ...] | None = None
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def to_original_units(self, split: SplitData, scaled: np.ndarray) -> np.ndarray:
        """Model outputs `(windows, horizon)` for `split`, unscaled and untransformed."""
        scaled = scaled.astype(np.float64)
        if split.window_scaling is not None:
            loc, scale = split.target_statistics()
            scaled = scaled * scale + loc
        transformed = self.target_scaler.inverse_transform(scaled)
        return self.pipeline.invert(transformed, split.origins())


def join_splits(splits) -> SplitData:
    """Splits of several series (same inputs and window geometry) end to end, for training one
    model on all of them: the windows of each, none crossing from one series into the next
    (`starts`). Only `features`, `target` and the windows are meaningful in the result."""
    first = splits[0]
    starts, offset = [], 0
    for split in splits:
        starts.append(offset + np.arange(split.n_windows))
        offset += len(split.target)

    def joined(name):
        return np.concatenate([getattr(split, name) for split in splits])

    return SplitData(
        name=first.name,
        features=joined("features"),
        target=joined("target"),
        raw_target=joined("raw_target"),
        times=joined("times"),
        observed=joined("observed"),
        first_row=0,
        input_width=first.input_width,
        horizon=first.horizon,
        starts=np.concatenate(starts).astype(np.int64),
        window_scaling=first.window_scaling,
        series_windows=np.array([len(s) for s in starts], dtype=np.int64),
    )


def one_hot(labels: np.ndarray, categories) -> np.ndarray:
    """`(time,)` labels -> `(time, len(categories))` 0/1 columns; unknown labels are all 0."""
    return (labels[:, None] == np.asarray(categories, dtype=object)[None, :]).astype(np.float64)


def encode_features(series: TimeSeries, model_target: np.ndarray, train_rows: slice):
    """The model's input matrix: numeric columns as they are (the target's own column replaced by
    `model_target`, the transformed target), label columns one-hot with the train split's labels.

    Returns:
        `(features (time, n_inputs) float64, names, passthrough (n_inputs,) bool)`, where
        `passthrough` marks the one-hot columns, which are not scaled.
    """
    blocks, names, passthrough = [], [], []
    for name in series.feature_names:
        values = series.columns[name]
        if name in series.categorical:
            categories = sorted({v for v in values[train_rows] if v is not None})
            blocks.append(one_hot(values, categories))
            names += [f"{name}={label}" for label in categories]
            passthrough += [True] * len(categories)
        else:
            blocks.append((model_target if name == series.target_name else values)[:, None])
            names.append(name)
            passthrough.append(False)
    return np.concatenate(blocks, axis=1), tuple(names), np.array(passthrough)


def _check_spread(values: np.ndarray, names, source: str, role: str) -> None:
    """DataError if a column of `values` `(time, columns)` varies, but by less than
    `MIN_SPREAD`: scaling it would underflow, and float32 could not tell its values apart."""
    if len(values) == 0:
        return
    spread = np.ptp(values, axis=0)
    narrow = np.flatnonzero((spread > 0) & (spread < MIN_SPREAD))
    if len(narrow):
        i = narrow[0]
        raise DataError(
            f"{source}: column '{names[i]}' ({role}, train split) varies by only "
            f"{spread[i]:.3g}; the model computes in float32: rescale the column (for example "
            "multiply it by a power of ten)"
        )


def _led(values: np.ndarray, fill=None, *, rows: slice, pad: int) -> np.ndarray:
    """`values[rows]` led by `pad` copies of its first row (or of `fill`)."""
    values = values[rows]
    if not pad:
        return values
    first = values[:1] if fill is None else np.full_like(values[:1], fill)
    return np.concatenate([np.repeat(first, pad, axis=0), values])


def prepare_data(
    data: DataConfig,
    seed: int = 0,
    bounds=None,
    series: TimeSeries | None = None,
    require=("train", "val", "test"),
    pad_test: bool = False,
) -> PreparedData:
    """Loads, cleans, encodes, transforms, splits and scales the series of `data`.

    Args:
        data: the data section of a config.
        seed: seeds a generated series.
        bounds: `{"train": (start, stop), "val": .., "test": ..}` row ranges to use instead
            of `data.split` (backtesting).
        series: the series of `data`, if already loaded.
        require: the splits that must hold a window (a panel's series needs only its test
            block: a short series is forecast by the model the others trained).
        pad_test: a test block with fewer rows before it than `input_width` (but one) is
            forecast from a window led by copies of the series' first row (not observed):
            every series of a panel gets a forecast (`SplitData.padded` says how many rows).

    The splits are cut from the whole series, so the test windows are the same whatever the
    transforms; the first rows that the transforms leave undefined (one for `diff`, a season
    for `seasonal_diff`) are left out of the train split. With fractions, every window lies
    inside its split; with `test_last`/`val_last`, the val and test blocks hold the windows'
    targets, and their inputs reach back into the `input_width` rows before (known at the
    forecast's origin), so the test block is forecast from the rows before it.

    Raises:
        DataError when a transform cannot apply or a split is too short to give one window.
    """
    if data.transforms == AUTO:
        raise UserInputError(
            "data.transforms: auto is chosen by training the model on each candidate: "
            "lstm_app.train(cfg) does it; to prepare one by hand give the transforms, or use "
            "prepare_candidates(cfg.data)"
        )
    series = series if series is not None else load_series(data, seed)
    try:
        pipeline = TargetPipeline.apply(series.target, data.transforms, data.season_length)
    except TransformError as err:
        raise DataError(
            f"{series.where(err.row)}, column '{series.target_name}' (data.target): {err} "
            "(data.transforms)"
        ) from None
    lag, width, horizon = pipeline.lag, data.window.input_width, data.window.horizon
    bounds = dict(bounds or split_bounds(len(series), data.split))
    if data.split.test_last is not None:  # blocks of targets: their inputs reach back before them
        for name in ("val", "test"):
            start, stop = bounds[name]
            bounds[name] = (max(start - width, 0), stop)
    bounds = {name: (max(start, lag), max(stop, lag)) for name, (start, stop) in bounds.items()}
    pads = dict.fromkeys(bounds, 0)
    start, stop = bounds["test"]
    if pad_test and start == lag and horizon < stop - start < width + horizon:
        pads["test"] = width + horizon - (stop - start)
    for name, (start, stop) in bounds.items():
        if name in require and count_windows(stop - start + pads[name], width, horizon) == 0:
            taken = f" once data.transforms take the first {lag}" if lag else ""
            raise DataError(
                f"{series.source}: the {name} split has {stop - start} of the {len(series)} "
                f"rows{taken}, fewer than the {width + horizon} one window needs (data.window."
                f"input_width {width} + horizon {horizon}); use a longer series, a shorter "
                f"window or a larger data.split.{name}"
            )
    train_rows = slice(*bounds["train"])
    if bounds["train"][1] - bounds["train"][0] < 2 and data.scaler not in WINDOW_SCALERS:
        raise DataError(
            f"{series.source}: the train split has {bounds['train'][1] - bounds['train'][0]} of "
            f"the {len(series)} rows; data.scaler {data.scaler} needs at least 2 to scale the "
            "series (data.scaler: window scales each window by its own rows)"
        )
    features, names, passthrough = encode_features(series, pipeline.transformed, train_rows)
    _check_spread(features[train_rows], names, series.source, "input")
    _check_spread(
        pipeline.transformed[train_rows, None], [series.target_name], series.source, "target"
    )
    feature_scaler = Scaler.fit(data.scaler, features[train_rows], passthrough)
    target_scaler = Scaler.fit(data.scaler, pipeline.transformed[train_rows, None])
    scaled_features = feature_scaler.transform(features).astype(np.float32)
    scaled_target = target_scaler.transform(pipeline.transformed[:, None])[:, 0].astype(np.float32)
    window_scaling = (
        WindowScaling(data.scaler, tuple(bool(not p) for p in passthrough))
        if data.scaler in WINDOW_SCALERS
        else None
    )
    splits = {}
    for name, (start, stop) in bounds.items():
        rows, pad = slice(start, stop), pads[name]
        led = partial(_led, rows=rows, pad=pad)

        splits[name] = SplitData(
            name=name,
            features=led(scaled_features),
            target=led(scaled_target),
            raw_target=led(series.target),
            times=led(series.times),
            observed=led(series.observed, False),
            first_row=start - pad,
            padded=pad,
            input_width=width,
            horizon=horizon,
            window_scaling=window_scaling,
        )
    return PreparedData(
        series,
        pipeline,
        splits,
        names,
        feature_scaler,
        target_scaler,
        data.season_length,
        prepared_from={"data": data, "seed": seed},
    )


def prepare_candidates(data: DataConfig, seed: int = 0) -> tuple[dict, dict[str, str]]:
    """The data prepared with each transform chain `data.transforms: auto` tries
    (`lstm_app.data.choose.candidates`), the series read once.

    Returns:
        `({names: PreparedData}, {candidate: why it was left out})`; DataError when none can
        be prepared (the error of the simplest).
    """
    series = load_series(data, seed)
    prepared, skipped, first_error = {}, {}, None
    for names in candidates(series.target, data.season_length):
        try:
            prepared[names] = prepare_data(replace(data, transforms=names), seed, series=series)
        except DataError as err:
            first_error = first_error or err
            skipped[candidate_name(names)] = without_source(err)
    if not prepared:
        raise first_error
    return prepared, skipped


def with_chosen_transforms(cfg: Config, data: PreparedData) -> Config:
    """`cfg` with `data.transforms: auto` replaced by what `data` was prepared with, so that the
    run's config says what was trained; `cfg` itself without auto."""
    if cfg.data.transforms != AUTO:
        return cfg
    return replace(cfg, data=replace(cfg.data, transforms=data.pipeline.names))
