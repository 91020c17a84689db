"""The panel's forecast plot: its totals summed by hand, the series it picks, and the PNG."""

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from lstm_app.config.schema import DataConfig
from lstm_app.config.validate import build
from lstm_app.data.panel import prepare_panel
from lstm_app.evaluation.baselines import baseline_forecasts
from lstm_app.evaluation.metrics import metrics_report
from lstm_app.evaluation.panel import series_table
from lstm_app.evaluation.panel_plots import (
    panel_totals,
    pick_series,
    plot_panel_forecast,
    shown_rows,
)

# series id: (first quarter, quarters); d ends a year before the others
SERIES = {"a": ("2000-01", 40), "b": ("2002-01", 32), "c": ("2001-07", 34)}
SERIES |= {"d": ("2000-01", 36), "e": ("2003-01", 28)}
ONE_WINDOW = {"window": {"input_width": 8, "horizon": 4}, "split": {"test_last": 4, "val_last": 4}}
MANY_WINDOWS = {
    "window": {"input_width": 4, "horizon": 2},
    "split": {"train": 0.5, "val": 0.2, "test": 0.3},
}


@pytest.fixture(scope="module")
def panel_csv(tmp_path_factory):
    """5 quarterly series of different starts and lengths, long format, a static label."""
    rng = np.random.default_rng(0)
    rows = []
    for k, (series_id, (start, quarters)) in enumerate(SERIES.items()):
        dates = pd.date_range(f"{start}-01", periods=quarters, freq="QS-JAN")
        for m, date in enumerate(dates):
            y = 100 + 20 * k + 10 * np.sin(np.pi * date.quarter / 2) + 0.5 * m + rng.normal()
            label = "big" if k % 2 else "small"
            rows.append({"series_id": series_id, "date": f"{date:%Y-%m-%d}", "y": round(y, 3)})
            rows[-1]["label"] = label
    path = tmp_path_factory.mktemp("panel") / "panel.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _prepared(path, keys):
    raw = {"path": str(path), "target": "y", "time_column": "date", "series_id": "series_id"}
    raw |= {"static": ["label"], "season_length": 4, "scaler": "series", **keys}
    return prepare_panel(build(DataConfig, raw, ("data",)))


def _forecasts(panel):
    """The actual test values times 1.1 plus the series' number: known, different per series."""
    return [
        1.1 * part.splits["test"].raw_target_windows() + i for i, part in enumerate(panel.parts)
    ]


def _by_hand(panel, forecasts, whole_horizon: bool) -> dict:
    """`{time: [series, actual, model, seasonal naive]}` summed with loops, reading the actual
    values from each series by its time stamps."""
    totals = {}
    for part, forecast in zip(panel.parts, forecasts, strict=True):
        split = part.splits["test"]
        naive = baseline_forecasts(part, split)["seasonal_naive"]
        times = split.target_times()
        steps = (
            [(0, k) for k in range(split.horizon)]
            if whole_horizon
            else [(w, 0) for w in range(split.n_windows)]
        )
        where = {pd.Timestamp(t): j for j, t in enumerate(part.series.times)}
        for w, k in steps:
            t = pd.Timestamp(times[w, k])
            actual = part.series.target[where[t]]
            sums = totals.setdefault(t, [0, 0.0, 0.0, 0.0])
            for c, value in enumerate((1, actual, forecast[w, k], naive[w, k])):
                sums[c] += value
    return totals


def _assert_totals(totals: pd.DataFrame, expected: dict) -> None:
    assert [pd.Timestamp(t) for t in totals["time"]] == sorted(expected)
    for row in totals.itertuples():
        want = expected[pd.Timestamp(row.time)]
        assert row.series == want[0]
        np.testing.assert_allclose(
            [row.actual, row.model, row.seasonal_naive], want[1:], rtol=1e-12
        )


def test_one_test_window_per_series_sums_their_whole_horizons(panel_csv):
    panel = _prepared(panel_csv, ONE_WINDOW)
    assert len(panel) == 5 and {p.splits["test"].n_windows for p in panel.parts} == {1}
    forecasts = _forecasts(panel)
    totals = panel_totals(panel, forecasts)
    _assert_totals(totals, _by_hand(panel, forecasts, whole_horizon=True))
    assert len(totals) == 8  # 2009's quarters for four series, 2008's for d alone
    assert totals["series"].tolist() == [1] * 4 + [4] * 4
    d = panel.parts[panel.ids.index("d")]
    np.testing.assert_allclose(totals["actual"][:4], d.series.target[-4:])  # d's own last year
    np.testing.assert_allclose(totals["model"][:4], 1.1 * d.series.target[-4:] + 3)


def test_many_test_windows_sum_the_first_step_of_each(panel_csv):
    panel = _prepared(panel_csv, MANY_WINDOWS)
    assert len(panel) == 5 and min(p.splits["test"].n_windows for p in panel.parts) > 1
    forecasts = _forecasts(panel)
    totals = panel_totals(panel, forecasts)
    expected = _by_hand(panel, forecasts, whole_horizon=False)
    _assert_totals(totals, expected)
    windows = sum(p.splits["test"].n_windows for p in panel.parts)
    assert totals["series"].sum() == windows  # each window once, by its first step
    assert totals["series"].max() > 1  # the series' test blocks overlap in time


def test_a_missing_seasonal_naive_forecast_leaves_its_totals_empty(panel_csv):
    panel = _prepared(panel_csv, ONE_WINDOW)
    parts = list(panel.parts)
    parts[0] = replace(parts[0], season_length=1000)  # a: a season back before its first row
    totals = panel_totals(replace(panel, parts=tuple(parts)), _forecasts(panel))
    a_times = set(panel.parts[0].splits["test"].target_times()[0])
    empty = totals["time"].isin(a_times)
    assert empty.sum() == 4 and totals["seasonal_naive"][empty].isna().all()
    assert totals["seasonal_naive"][~empty].notna().all() and totals["model"].notna().all()


def _table(mase):
    return pd.DataFrame(
        {
            "series": [f"s{i}" for i in range(len(mase))],
            "model_mase": mase,
            "seasonal_naive_mase": 1.0,
        }
    )


@pytest.mark.parametrize(
    ("mase", "expected"),
    [
        (
            [0.9, np.nan, 0.3, 1.5, 0.7, np.nan],
            [("best", "s2"), ("median", "s4"), ("worst", "s3")],
        ),
        (
            [0.8, 0.5, 0.8, 0.2, 0.6],
            [("best", "s3"), ("median", "s4"), ("worst", "s2")],
        ),  # ties: table order
        ([np.nan, 1.2, 0.4], [("best", "s2"), ("worst", "s1")]),  # two: none twice
        ([np.nan, 0.7], [("best", "s1")]),
        ([np.nan, np.nan], []),
    ],
)
def test_the_best_median_and_worst_series_by_mase(mase, expected):
    assert pick_series(_table(mase)) == expected


def test_the_history_shown_is_three_seasons_and_at_least_two_horizons(panel_csv):
    test = _prepared(panel_csv, ONE_WINDOW).parts[0].splits["test"]  # a: 40 rows, targets 36..39
    assert shown_rows(test, 4) == slice(24, 40)  # 3 seasons + the 4 targets
    assert shown_rows(test, 1) == slice(32, 40)  # 3 + 4 < 2 * horizon
    assert shown_rows(test, 20) == slice(0, 40)  # no further back than the first row


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@pytest.mark.parametrize("keys", [ONE_WINDOW, MANY_WINDOWS], ids=["one window", "many windows"])
def test_the_plot_is_a_png_of_the_total_and_three_series(panel_csv, tmp_path, keys):
    panel = _prepared(panel_csv, keys)
    forecasts = _forecasts(panel)
    reports = [
        metrics_report(part, {"test": forecast})
        for part, forecast in zip(panel.parts, forecasts, strict=True)
    ]
    table = series_table(panel.ids, reports)
    table.loc[1, "model_mase"] = np.nan
    path = tmp_path / "panel.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_panel_forecast(panel, forecasts, table, path)
    assert _png_size(path) == (1200, 800) and path.stat().st_size > 20_000
    few = table.assign(model_mase=[np.nan, np.nan, 0.5, np.nan, np.nan])  # one series to show
    plot_panel_forecast(panel, forecasts, few, tmp_path / "one.png")
    assert _png_size(tmp_path / "one.png") == (1200, 800)
    plot_panel_forecast(panel, forecasts, few.assign(model_mase=np.nan), tmp_path / "none.png")
    assert _png_size(tmp_path / "none.png") == (1200, 450)  # the total alone


def test_forecasts_that_do_not_fit_the_panel_are_refused(panel_csv, tmp_path):
    panel = _prepared(panel_csv, ONE_WINDOW)
    forecasts = _forecasts(panel)
    table = _table([1.0] * 5).assign(series=list(panel.ids))
    with pytest.raises(ValueError, match=r"forecasts: expected one array per series \(5\), got"):
        plot_panel_forecast(panel, forecasts[:4], table, tmp_path / "x.png")
    forecasts[2] = forecasts[2][:, :3]
    with pytest.raises(ValueError, match=r"forecasts\[2\]: expected shape \(1, 4\) .* 'c'"):
        plot_panel_forecast(panel, forecasts, table, tmp_path / "x.png")
