"""Forecast with an exported model: read a CSV, cut its last window (or every window), run the
model in its own runtime, and stamp each forecast with its time.

    forecaster = load_forecaster("runs/article-.../export")        # any of the four formats
    table = forecast_csv(forecaster, "recent.csv", all_windows=False)

The CSV needs the columns the model was trained on (`metadata.json`: inputs) and at least
`inputs.rows` rows; it is read and cleaned as the training data was (`data.missing`). A model
that does not match its card (input columns, rows, horizon) is refused in one line, and many
windows are forecast in batches of at most `BATCH_SIZE`.
"""

import json
import re
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from lstm_app.config.load import config_from_dict
from lstm_app.data.panel import read_panel
from lstm_app.data.prepare import one_hot
from lstm_app.data.series import load_series
from lstm_app.data.steps import infer_frequency, series_step, step_text
from lstm_app.data.times import time_text
from lstm_app.errors import DataError, UserInputError, first_line
from lstm_app.serving.formats import (
    CARD,
    FORMATS,
    LoadedModel,
    artefact_kinds,
    missing_extras,
)
from lstm_app.serving.spec import ServingSpec

BATCH_SIZE = 4096  # windows per run of the model: bounds the runtime's memory


@dataclass(frozen=True)
class Forecaster:
    """An exported model and its card.

    Attributes:
        path: the artefact.
        format: `keras`, `saved_model`, `onnx` or `tflite`.
        metadata: the model card (`metadata.json`).
    """

    path: Path
    format: str
    metadata: dict

    @property
    def spec(self) -> ServingSpec:
        return ServingSpec.from_dict(self.metadata["serving_spec"])

    @cached_property
    def _run(self):
        try:
            run = FORMATS[self.format].runner(self.path)
        except Exception as err:  # a corrupt or foreign file: say which, in one line
            raise UserInputError(
                f"--model {self.path}: cannot be loaded as {self.format}: {first_line(err)}"
            ) from None
        self._check_declared(run)
        return run

    def _check_declared(self, loaded: LoadedModel) -> None:
        """UserInputError if what the loaded model declares (formats that say: keras) does not
        match the card: inputs `(None, rows or None, columns)`, outputs `(None, horizon)`."""
        declared = loaded.declared
        if declared is None:
            return
        columns = len(self.metadata["inputs"]["columns"])
        rows, horizon = self.spec.rows, self.spec.horizon
        if not declared.is_serving_model:
            raise UserInputError(
                f"--model {self.path}: not an lstm-app serving model (no to_model_inputs and "
                "to_original_units layers); expected a model written by lstm-export"
            )
        shape = declared.input_shape
        if not (
            shape is not None
            and len(shape) == 3
            and shape[0] is None
            and shape[1] in (None, rows)
            and shape[2] == columns
        ):
            raise UserInputError(
                f"--model {self.path}: takes inputs of shape {shape}; {CARD} says "
                f"(None, {rows}, {columns}): {rows} rows of {columns} columns"
            )
        shape = declared.output_shape
        expected = (None, *self.output_shape)
        if shape != expected:
            raise UserInputError(
                f"--model {self.path}: returns forecasts of shape {shape}; {CARD} says "
                f"horizon {horizon}, {expected}"
            )

    @property
    def output_shape(self) -> tuple:
        """A window's forecast: `(horizon,)`, or `(horizon, quantiles)` for a distribution."""
        spec = self.spec
        return (spec.horizon, len(spec.quantiles)) if spec.distribution else (spec.horizon,)

    def run(self, raw: np.ndarray) -> np.ndarray:
        """Raw windows `(n, rows, inputs)` float32, n >= 1 -> forecasts `(n, horizon)`, in the
        format's own runtime (loaded at the first call). UserInputError, before any model
        runs, for an empty batch (onnxruntime aborts the process on one) and, for a format
        whose rows are fixed (tflite), for windows of other rows; and if the model cannot run
        on the windows or returns another shape than the card's horizon."""
        raw = np.asarray(raw)
        if raw.ndim != 3 or raw.shape[0] == 0:
            raise UserInputError(
                f"--model {self.path}: no window to forecast from (a batch of shape "
                f"{raw.shape}); a batch must hold at least one window (n, rows, inputs)"
            )
        rows = self.spec.rows
        if FORMATS[self.format].fixed_rows and raw.shape[1] != rows:
            raise UserInputError(
                f"--model {self.path}: takes windows of exactly {rows} rows (a {self.format} "
                f"model's rows are fixed), got windows of {raw.shape[1]}; give the last {rows} "
                "rows of each"
            )
        run = self._run
        if "_ran" in self.__dict__:
            forecasts = run(raw)
        else:  # the first run of a model checked only by its card: a foreign model fails here
            try:
                forecasts = run(raw)
            except Exception as err:
                raise UserInputError(
                    f"--model {self.path}: cannot forecast from windows of shape {raw.shape} "
                    f"({CARD}): {first_line(err)}"
                ) from None
            self.__dict__["_ran"] = True
        expected = (len(raw), *self.output_shape)
        if np.shape(forecasts) != expected:
            raise UserInputError(
                f"--model {self.path}: returns forecasts of shape {np.shape(forecasts)} for "
                f"{len(raw)} windows; {CARD} says horizon {self.spec.horizon}, {expected}"
            )
        return forecasts


def _by_preference() -> list[str]:
    """The formats, in the order `load_forecaster` picks one from an export directory."""
    return sorted(FORMATS.names(), key=lambda name: FORMATS[name].preference)


def _format_of(path: Path) -> str | None:
    """The format whose artefact `path` is, or None."""
    return next((name for name in _by_preference() if FORMATS[name].recognizes(path)), None)


def load_forecaster(path) -> Forecaster:
    """An exported model from an export directory (its SavedModel, else the first format it
    holds) or from one artefact; its `metadata.json` is beside it. UserInputError if not."""
    path = Path(path)
    if not path.exists():
        raise UserInputError(f"--model {path}: not found")
    folder = path if path.is_dir() and _format_of(path) is None else path.parent
    card = folder / CARD
    if not card.is_file():
        raise UserInputError(
            f"--model {path}: no metadata.json beside it; expected an export directory "
            "(lstm-export RUN_DIR) or a file in one"
        )
    try:
        metadata = json.loads(card.read_text(encoding="utf-8"))
    except ValueError:
        raise UserInputError(f"{card}: not valid JSON") from None
    fmt = _format_of(path)
    if fmt is None:
        if not path.is_dir():
            raise UserInputError(
                f"--model {path}: not a model; expected an export directory, {artefact_kinds()}"
            )
        for preferred in _by_preference():
            if (path / FORMATS[preferred].artefact).exists():
                fmt = preferred
                break
        if fmt is None:
            raise UserInputError(f"--model {path}: the directory holds no exported model")
        path = path / FORMATS[fmt].artefact
    problem = missing_extras([fmt])
    if problem:
        raise UserInputError(problem)
    return Forecaster(path, fmt, metadata)


def raw_inputs(forecaster: Forecaster, csv) -> tuple[np.ndarray, np.ndarray]:
    """The model's raw input columns from a CSV, cleaned as in training.

    Returns:
        `(values (time, inputs) float32, times (time,))`.
    """
    config = config_from_dict(forecaster.metadata["config"])
    # a model trained on a generated series reads the CSV too: its one column, row by row
    data = replace(config.data, source="csv", path=Path(csv))
    try:
        series = load_series(data)
    except DataError as err:
        raise DataError(_as_input_message(str(err), data)) from None
    spec = forecaster.spec
    columns = []
    for name in spec.inputs:
        column, _, label = name.partition("=")
        if column in spec.categorical and label:
            columns.append(one_hot(series.columns[column], [label])[:, 0])
        else:
            columns.append(series.columns[name])
    return np.stack(columns, axis=1).astype(np.float32), series.times


_COLUMN_ROLES = {
    "data.target": "the model's target",
    "data.features": "an input of the model",
    "data.time_column": "the model's time column",
    "data.time_columns": "a part of the model's time",
}


def _as_input_message(message: str, data) -> str:
    """A message about the training data (`data.path`, `set data.missing`...) reworded for
    `lstm-predict`'s CSV: the file is `--input`, and the model's training config, not the
    user, decides how it is read (`data.missing`, `data.separator`)."""
    message = message.replace("(data.path)", "(--input)")
    message = re.sub(  # the columns the model reads, named by their roles, not training keys
        r"\((data\.target|data\.features\[\d+\]|data\.time_columns?(\[\d+\])?)\)",
        lambda found: f"({_COLUMN_ROLES[found.group(1).split('[')[0]]})",
        message,
    )
    message = re.sub(
        r"; set data\.missing to (drop, ffill or interpolate|interpolate or ffill .*)$",
        "; the model's training config decides how they are handled (its data.missing: "
        f"{data.missing}): fill them in",
        message,
    )
    message = re.sub(
        r"(: fix the file|; cut the file there), or set data\.missing: drop .*$",
        rf"\1 (the model's training config has data.missing: {data.missing})",
        message,
    )
    return re.sub(
        r": set data\.separator: .*$",
        f"; the model's training config reads it with data.separator {data.separator!r}: save it "
        "with that separator",
        message,
    )


def forecast_csv(
    forecaster: Forecaster, csv, all_windows: bool = False, batch_size: int = BATCH_SIZE
) -> pd.DataFrame:
    """Forecasts from the last `rows` rows of `csv` (or from every window of them, run
    `batch_size` windows at a time); for a model trained on a panel, of every series in the
    long-format `csv` (`panel_inputs`).

    Returns:
        One row per origin and step: `origin` (the time of the last row used), `time` (the
        forecast's time, continuing the time column's frequency), `step`, `forecast`; a panel's
        rows start with `series`, the series' id. A panel's series shorter than the model's
        window is forecast from its rows led by copies of its first row, as the run scored
        it; a column `padded` then says how many rows each window was given. A panel model
        whose config combines its forecasts with statistical ones (`model.combine`) gets them
        here too, each model fitted on the series' rows up to each origin.
    """
    panel = forecaster.metadata.get("series") is not None
    inputs = panel_inputs(forecaster, csv) if panel else [(None, *raw_inputs(forecaster, csv))]
    spec = forecaster.spec
    rows, windows, origins, unscale, padded = spec.rows, [], [], [], {}
    for series_id, values, _ in inputs:
        n = len(values)
        if len(values) < rows and panel and len(values) > spec.lag:  # as the run scored it
            padded[series_id] = rows - len(values)
            values = np.concatenate([np.repeat(values[:1], rows - len(values), axis=0), values])
        elif len(values) < rows:
            lag = f" + {spec.lag} for the transforms" if spec.lag else ""
            which = f"series '{series_id}' " if panel else ""
            raise DataError(
                f"{csv}: {which}has {len(values)} usable rows; the model needs the last {rows} "
                f"(input_width {spec.input_width}{lag})"
            )
        cut = np.lib.stride_tricks.sliding_window_view(values, rows, axis=0).transpose(0, 2, 1)
        cut = cut if all_windows or series_id in padded else cut[-1:]
        if spec.series_scaled:  # by the series' own statistics, from the card
            offset, scale, target = _series_statistics(forecaster, series_id, csv)
            cut = (cut - offset) / scale
            unscale.append(np.broadcast_to(target, (len(cut), 2)))
        windows.append(cut)
        origins.append(np.arange(n - len(cut), n))
    windows = np.concatenate(windows)
    if len(windows) == 0:  # never handed to a runtime (onnxruntime aborts on an empty batch)
        raise DataError(f"{csv}: no window to forecast from")
    forecasts = np.concatenate(
        [
            np.asarray(forecaster.run(np.ascontiguousarray(windows[i : i + batch_size])))
            for i in range(0, len(windows), batch_size)
        ]
    ).astype(np.float64)
    if unscale:
        target = np.concatenate(unscale)  # (windows, 2): offset, scale
        each = (-1,) + (1,) * (forecasts.ndim - 1)  # per window: (windows, 1) or (windows, 1, 1)
        forecasts = forecasts * target[:, 1].reshape(each) + target[:, 0].reshape(each)
    combine = (forecaster.metadata.get("config") or {}).get("model", {}).get("combine") or []
    if panel and combine and not spec.distribution:  # as the run scored them (model.combine)
        forecasts = _combined(forecasts, inputs, origins, spec, combine)
    table, done = [], 0
    for (series_id, _, times), starts in zip(inputs, origins, strict=True):
        frequency = _input_frequency(times, forecaster.metadata["inputs"].get("frequency"), csv)
        whole_step = 1
        if not np.issubdtype(times.dtype, np.datetime64):  # steps: numbered on at their own step
            whole_step = series_step(times)[0] or 1
        for origin in starts:
            stamps = _future(times[origin], frequency, spec.horizon, whole_step)
            for step in range(spec.horizon):
                row = {} if series_id is None else {"series": series_id}
                row |= {"origin": time_text(times[origin]), "time": stamps[step], "step": step + 1}
                if padded:  # rows of copies of the first value leading a short series' window
                    row["padded"] = padded.get(series_id, 0)
                if spec.distribution:  # one column per quantile
                    row |= {
                        f"q{level:g}": value
                        for level, value in zip(spec.quantiles, forecasts[done, step], strict=True)
                    }
                else:
                    row["forecast"] = forecasts[done, step]
                table.append(row)
            done += 1
    return pd.DataFrame(table)


def _combined(forecasts: np.ndarray, inputs, origins, spec, names) -> np.ndarray:
    """The network's forecasts `(windows, horizon)`, window by window in the order of
    `inputs`, each series' combined with the statistical models `names` fitted on its own
    target up to each origin (`lstm_app.evaluation.combine`); a series they cannot forecast
    keeps the network's."""
    from lstm_app.models.statistical import combine, statistical_forecast

    combined, done = forecasts.copy(), 0
    for (_, values, _), starts in zip(inputs, origins, strict=True):
        target = np.asarray(values[:, spec.target_index], dtype=np.float64)
        found = [
            statistical_forecast(name, target, starts, spec.horizon, spec.season_length)[0]
            for name in names
        ]
        rows = slice(done, done + len(starts))
        if all(values is not None for values in found):
            combined[rows] = combine(forecasts[rows], found)
        done += len(starts)
    return combined


def _series_statistics(forecaster: Forecaster, series_id: str, csv):
    """`(offset (inputs,), scale (inputs,), (target offset, target scale))` of one series of
    a model scaled series by series, from its card; DataError for a series it does not know."""
    card = forecaster.metadata["series_scaling"]
    stats = card["series"].get(series_id)
    if stats is None:
        raise DataError(
            f"{csv}: series '{series_id}' is not one of the {len(card['series'])} series the "
            "model was trained on; a model scaled series by series (data.scaler: series) knows "
            "only their statistics (data.scaler: window forecasts any series)"
        )
    inputs = forecaster.spec.inputs
    offset, scale = np.zeros(len(inputs)), np.ones(len(inputs))
    for column, o, s in zip(card["columns"], stats["offset"], stats["scale"], strict=True):
        offset[inputs.index(column)], scale[inputs.index(column)] = o, s
    return offset.astype(np.float32), scale.astype(np.float32), np.asarray(stats["target"])


def panel_inputs(forecaster: Forecaster, csv) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Each series of a long-format CSV, read and checked as the panel was in training:
    `[(id, values (time, inputs) float32, times (time,))]`, its static labels one-hot as the
    card's input columns name them. DataError, naming the series, for a label the model was
    not trained on."""
    config = config_from_dict(forecaster.metadata["config"])
    data = replace(config.data, path=Path(csv))
    try:
        panel = read_panel(data)
    except DataError as err:
        raise DataError(_as_input_message(str(err), data)) from None
    spec = forecaster.spec
    for column, labels in panel.static.items():
        known = spec.categorical.get(column, [])
        for series_id, label in zip(panel.ids, labels, strict=True):
            if label not in known:
                raise DataError(
                    f"{csv}: series '{series_id}', column '{column}': '{label}' was not among "
                    f"the model's labels ({', '.join(known)}); it cannot forecast this series"
                )
    inputs = []
    for i, (series_id, series) in enumerate(zip(panel.ids, panel.series, strict=True)):
        columns = []
        for name in spec.inputs:
            column, _, label = name.partition("=")
            if column in panel.static and label:
                columns.append(np.full(len(series), float(panel.static[column][i] == label)))
            elif column in spec.categorical and label:
                columns.append(one_hot(series.columns[column], [label])[:, 0])
            else:
                columns.append(series.columns[name])
        inputs.append((series_id, np.stack(columns, axis=1).astype(np.float32), series.times))
    return inputs


def _input_frequency(times: np.ndarray, trained: str | None, csv) -> str | None:
    """The step between the input's rows as a pandas frequency, which must be the one the model
    was trained on (`trained`, from its card) where both are known; DataError if not."""
    frequency = infer_frequency(times)
    if frequency is None or trained is None:
        return frequency or trained
    if _frequency_base(frequency) != _frequency_base(trained):
        raise DataError(
            f"{csv}: rows are {step_text(to_offset(frequency))} apart, but the model was trained "
            f"on rows {step_text(to_offset(trained))} apart; give it rows at its own step"
        )
    return frequency


def _frequency_base(frequency: str) -> str:
    """A frequency without its anchor: `W-SUN` and `W-MON` are both weeks, `MS` and `ME` both
    months, `QS-OCT` and `QE-DEC` both quarters; `2h` stays `2h`."""
    return re.sub(r"^(\d*B?[MQY])[SE]$", r"\1", frequency.split("-")[0])


def _future(origin, frequency, horizon: int, step: int = 1) -> list[str]:
    """The times of the `horizon` steps after `origin`; whole-number steps `step` apart."""
    if not np.issubdtype(np.asarray(origin).dtype, np.datetime64):
        return [str(int(origin) + k * step) for k in range(1, horizon + 1)]
    if frequency is None:
        return [f"+{k}" for k in range(1, horizon + 1)]
    stamps = pd.date_range(pd.Timestamp(origin), periods=horizon + 1, freq=frequency)[1:]
    return [time_text(np.datetime64(stamp)) for stamp in stamps]
