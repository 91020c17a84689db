"""A panel's forecasts as one PNG: the panel's total against the totals of the model's and the
seasonal naive forecasts, and below it three series, the best, the median and the worst by the
model's MASE.

    plot_panel_forecast(panel, forecasts, table, path)   forecasts[i]: (windows, horizon)

Every forecast here is in the target's original units. A series with one window in the split
(the `split: {test_last: H}` protocol) is shown by that window's whole horizon; a series with
several, by each window's first step (as `plots.plot_forecast`'s top panel), so each series
forecasts each target time once. The total at a time sums the series forecast at that time, the
actual values and the forecasts alike; a series without a seasonal naive forecast (left out,
see `baselines.baseline_notes`) leaves the seasonal naive total empty at its times.
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lstm_app.data.panel import PreparedPanel
from lstm_app.data.prepare import PreparedData, SplitData
from lstm_app.evaluation.baselines import BASELINES, baseline_forecasts
from lstm_app.evaluation.metrics import mae

SEASONS_SHOWN = 3  # seasons of history shown before the split's first target
VALUES = ("actual", "model", "seasonal_naive")  # the columns summed over series


def forecast_steps(values: np.ndarray) -> np.ndarray:
    """The values shown of a split's windows: `(windows, horizon)` -> `(horizon,)` the one
    window's whole horizon, or `(windows,)` each window's first step."""
    return values[0] if len(values) == 1 else values[:, 0]


def series_points(part: PreparedData, forecast: np.ndarray, split_name="test") -> pd.DataFrame:
    """One series' forecast target times (`forecast_steps`), one row each: `time, actual,
    model, seasonal_naive` (NaN where the seasonal naive forecast is left out).

    Args:
        forecast: `(windows, horizon)` the model's forecasts of the split's windows.
    """
    split = part.splits[split_name]
    naive = baseline_forecasts(part, split, ("seasonal_naive",)).get("seasonal_naive")
    return pd.DataFrame(
        {
            "time": forecast_steps(split.target_times()),
            "actual": forecast_steps(split.raw_target_windows()),
            "model": forecast_steps(np.asarray(forecast, dtype=np.float64)),
            "seasonal_naive": np.nan if naive is None else forecast_steps(naive),
        }
    )


def sum_by_time(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The sum over series of their frames (`time` and value columns), per time present in
    any: `time, series` (how many are summed) and each value column, sorted by time; a sum is
    NaN where one of its values is. Frames that are themselves sums (with a `series` column,
    as shards' totals are) add up with their counts."""
    frame = pd.concat(frames, ignore_index=True)
    columns = [c for c in frame.columns if c not in ("time", "series")]
    grouped = frame.groupby("time", sort=True)
    totals = grouped[columns].sum()
    totals = totals.where(~frame[columns].isna().groupby(frame["time"]).any())
    counts = grouped["series"].sum() if "series" in frame.columns else grouped.size()
    totals.insert(0, "series", counts)
    return totals.reset_index()


def panel_totals(panel: PreparedPanel, forecasts: list[np.ndarray], split_name="test"):
    """`sum_by_time` of every series' `series_points`: at each target time, `time, series,
    actual, model, seasonal_naive` summed over the series forecast at that time."""
    return sum_by_time(
        [
            series_points(part, forecast, split_name)
            for part, forecast in zip(panel.parts, forecasts, strict=True)
        ]
    )


def shown_rows(split: SplitData, season_length: int) -> slice:
    """The rows of the whole series shown: `SEASONS_SHOWN` seasons before the split's first
    target and every target after it, at least `2 * horizon` rows (fewer in a short series)."""
    stop = split.first_row + len(split.raw_target)
    first_target = split.first_row + split.input_width
    length = max(stop - first_target + SEASONS_SHOWN * season_length, 2 * split.horizon)
    return slice(max(stop - length, 0), stop)


def history_total(panel: PreparedPanel, split_name="test") -> pd.DataFrame:
    """`time, series, actual`: the sum over series of the target at each time of their
    `shown_rows`, over the series present at that time."""
    frames = []
    for part in panel.parts:
        rows = shown_rows(part.splits[split_name], part.season_length)
        frames.append(
            pd.DataFrame({"time": part.series.times[rows], "actual": part.series.target[rows]})
        )
    return sum_by_time(frames)


def pick_series(table: pd.DataFrame) -> list[tuple[str, str]]:
    """`[(role, series id)]` for the best, the median (the lower one of an even count) and the
    worst series by `model_mase`, NaN left out, ties in table order; fewer where fewer series
    have a MASE, none twice: `[("best", "c"), ("median", "a"), ("worst", "b")]`."""
    ranked = table.dropna(subset=["model_mase"]).sort_values("model_mase", kind="stable")
    n = len(ranked)
    picked, seen = [], set()
    for role, i in (("best", 0), ("median", (n - 1) // 2), ("worst", n - 1)):
        if n and i not in seen:
            seen.add(i)
            picked.append((role, str(ranked["series"].iloc[i])))
    return picked


def plot_panel_forecast(
    panel: PreparedPanel, forecasts: list[np.ndarray], table: pd.DataFrame, path, split_name="test"
) -> None:
    """The panel's total over time against the model's and the seasonal naive forecasts'
    totals, and the best, median and worst series by MASE, written as a PNG to `path`.

    Args:
        panel: the prepared panel.
        forecasts: `forecasts[i]` `(windows, horizon)`: the model's forecasts of every window
            of `panel.parts[i]`'s split `split_name`, in original units.
        table: `series_table(panel.ids, reports)`: `series, model_mase, seasonal_naive_mase`.
    """
    _check(panel, forecasts, table, split_name)
    points = [
        series_points(part, forecast, split_name)
        for part, forecast in zip(panel.parts, forecasts, strict=True)
    ]
    picked = [
        (role, series_id, panel.parts[panel.ids.index(series_id)])
        for role, series_id in pick_series(table)
    ]
    draw_panel_forecast(
        history_total(panel, split_name),
        sum_by_time(points),
        [(*pick, points[panel.ids.index(pick[1])]) for pick in picked],
        table,
        path,
        f"{split_name} split, {_steps(panel, split_name)}",
        split_name,
    )


def draw_panel_forecast(history, totals, picked, table, path, what: str, split_name="test"):
    """The figure of `plot_panel_forecast` from its pieces, which a panel read shard by shard
    adds up shard by shard (`sum_by_time` of the shards' `history_total` and `panel_totals`).

    Args:
        history: `history_total`'s `time, series, actual`.
        totals: `panel_totals`' `time, series, actual, model, seasonal_naive`.
        picked: `[(role, series id, its PreparedData, its series_points)]`, as `pick_series`.
        table: the series' metrics (`series_table`).
        what: how the total's title names the split and the steps shown.
    """
    shown = [f"s{k}" for k in range(len(picked))]
    layout = [["total"] * max(len(shown), 1)] + ([shown] if shown else [])
    fig = Figure(figsize=(12, 8 if shown else 4.5), layout="constrained")
    axes = fig.subplot_mosaic(layout, height_ratios=[1.2, 1] if shown else None)
    target = picked[0][2].series.target_name if picked else "target"
    _plot_total(axes["total"], history, totals, target)
    axes["total"].set_title(
        f"{target}: total of {len(table)} series, {what}; {_total_scores(totals)}"
    )
    scores = table.set_index("series")
    for key, (role, series_id, part, points) in zip(shown, picked, strict=True):
        row = scores.loc[series_id]
        _plot_series(axes[key], part, points, split_name)
        axes[key].set_title(
            f"{role}: {series_id}\nMASE {_score(row['model_mase'])} vs seasonal naive "
            f"{_score(row.get('seasonal_naive_mase', np.nan))}",
            fontsize=9,
        )
    fig.savefig(path, format="png", dpi=100)


def _check(panel: PreparedPanel, forecasts, table: pd.DataFrame, split_name: str) -> None:
    """ValueError naming the argument where `forecasts` or `table` do not fit `panel`."""
    if len(forecasts) != len(panel):
        raise ValueError(
            f"forecasts: expected one array per series ({len(panel)}), got {len(forecasts)}"
        )
    for i, (part, forecast) in enumerate(zip(panel.parts, forecasts, strict=True)):
        split = part.splits[split_name]
        expected = (split.n_windows, split.horizon)
        if np.shape(forecast) != expected:
            raise ValueError(
                f"forecasts[{i}]: expected shape {expected} (the {split_name} windows of series "
                f"'{panel.ids[i]}'), got {np.shape(forecast)}"
            )
    unknown = sorted(set(table["series"].astype(str)) - set(panel.ids))
    if unknown:
        raise ValueError(f"table: series {unknown[:3]} are not in the panel")


def _steps(panel: PreparedPanel, split_name: str) -> str:
    """How the windows are shown: `whole horizon`, `step 1 of each window`, or both."""
    one = {part.splits[split_name].n_windows == 1 for part in panel.parts}
    if one == {True}:
        return "whole horizon"
    return "step 1 of each window" if one == {False} else "whole horizon or step 1"


def _total_scores(totals: pd.DataFrame) -> str:
    """`MAE model x, seasonal naive y` of the totals, the seasonal naive over the times it
    has (said where fewer than all)."""
    text = f"MAE model {mae(totals['actual'], totals['model']):.4g}"
    has = totals["seasonal_naive"].notna().to_numpy()
    if not has.any():
        return text + ", seasonal naive left out"
    naive = mae(totals["actual"][has], totals["seasonal_naive"][has])
    where = "" if has.all() else f" (at {int(has.sum())} of {len(has)} times)"
    return text + f", seasonal naive {naive:.4g}{where}"


def _score(value) -> str:
    return "n/a" if pd.isna(value) else f"{value:.3g}"


def _plot_lines(ax, history: pd.DataFrame, points: pd.DataFrame) -> None:
    """The recent actual values (gray), the split's actual values, the model's and the seasonal
    naive forecasts, each `time` against its column."""
    ax.plot(history["time"], history["actual"], color="gray", lw=1, label="actual")
    ax.plot(
        points["time"],
        points["actual"],
        color="black",
        marker=".",
        lw=1.5,
        label="actual, forecast steps",
    )
    ax.plot(points["time"], points["model"], color="C0", marker=".", label="model")
    if points["seasonal_naive"].notna().any():
        style = BASELINES["seasonal_naive"].style
        ax.plot(
            points["time"], points["seasonal_naive"], color="C1", ls=style, label="seasonal naive"
        )
    ax.grid(True, alpha=0.3)


def _plot_total(ax, history: pd.DataFrame, totals: pd.DataFrame, target: str) -> None:
    """The panel's total (`history_total`) and its forecast totals (`sum_by_time`)."""
    _plot_lines(ax, history, totals)
    ax.set_ylabel(f"total {target}")
    ax.legend(fontsize=8)


def _plot_series(ax, part: PreparedData, points: pd.DataFrame, split_name: str) -> None:
    """One series: its recent history (`shown_rows`) and its `series_points`."""
    rows = shown_rows(part.splits[split_name], part.season_length)
    history = pd.DataFrame({"time": part.series.times[rows], "actual": part.series.target[rows]})
    _plot_lines(ax, history, points)
    ax.tick_params(axis="x", labelsize=7, labelrotation=30)
    ax.legend(fontsize=7)
