"""Sampling the training windows (issue 15): `training.stride` keeps every k-th window of each
series, `training.windows_per_series` draws N windows of each series every epoch, from the
seed and the epoch alone, so a resumed run trains on the same windows."""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_config_dict, whole_and_resumed, write_yaml

from lstm_app.data.prepare import SplitData, join_splits
from lstm_app.data.windows import every_stride, make_dataset


def _series(length, offset) -> SplitData:
    """One series whose target is `offset + row`: a window's first target tells its start."""
    values = offset + np.arange(length, dtype=np.float32)
    return SplitData(
        name="train",
        features=values[:, None],
        target=values,
        raw_target=values.astype(np.float64),
        times=np.arange(length),
        observed=np.ones(length, bool),
        first_row=0,
        input_width=3,
        horizon=2,
    )


LENGTHS = (10, 30, 6)  # 6, 26 and 2 windows
OFFSETS = (0, 1000, 2000)


def _joined():
    return join_splits([_series(n, o) for n, o in zip(LENGTHS, OFFSETS, strict=True)])


def _drawn(split, **keys):
    """The series and the first row (in its series) of every window of one epoch, in order."""
    firsts = np.concatenate([y[:, 0] - 3 for _, y in make_dataset(split, 4, **keys)])
    return firsts // 1000, firsts % 1000


def test_stride_keeps_every_kth_window_of_each_series():
    joined = every_stride(_joined(), 4)
    series, rows = _drawn(joined)
    assert list(series) == [0, 0, 1, 1, 1, 1, 1, 1, 1, 2]
    assert list(rows) == [0, 4, 0, 4, 8, 12, 16, 20, 24, 0]
    assert list(joined.series_windows) == [2, 7, 1]
    one = every_stride(_series(10, 0), 3)  # one series: its own starts
    assert list(_drawn(one)[1]) == [0, 3]


def test_windows_per_series_draws_n_of_each_series_from_the_seed_and_epoch():
    joined = _joined()
    series, rows = _drawn(joined, seed=5, epoch=0, windows_per_series=8)
    assert np.bincount(series.astype(int)).tolist() == [8, 8, 8]
    for s, windows in enumerate((6, 26, 2)):
        assert np.all((rows[series == s] >= 0) & (rows[series == s] < windows))  # its own
    again = _drawn(joined, seed=5, epoch=0, windows_per_series=8)
    np.testing.assert_array_equal(again[1], rows)  # (seed, epoch) decide
    later = _drawn(joined, seed=5, epoch=1, windows_per_series=8)
    assert not np.array_equal(later[1], rows)  # another epoch, other windows
    assert len(set(series[:8])) > 1  # the series come mixed, not one after another


def test_windows_per_series_reaches_every_window_over_epochs():
    joined = _joined()
    seen = set()
    for epoch in range(40):
        series, rows = _drawn(joined, seed=1, epoch=epoch, windows_per_series=4)
        seen |= set(zip(series.astype(int).tolist(), rows.astype(int).tolist(), strict=True))
    assert seen == {(s, r) for s, n in enumerate((6, 26, 2)) for r in range(n)}


def _panel_config(tmp_path, epochs=4):
    rng = np.random.default_rng(0)
    rows = []
    for k, name in enumerate(["north", "south", "east"]):
        for m in range(48):
            y = 50 + 10 * k + 5 * np.sin(2 * np.pi * m / 12) + rng.normal()
            rows.append({"id": name, "t": f"{2000 + m // 12}-{m % 12 + 1:02d}", "y": round(y, 3)})
    path = tmp_path / "panel.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    data = {"source": "csv", "path": str(path), "target": "y", "time_column": "t"}
    data |= {"series_id": "id", "season_length": 12, "window": {"input_width": 6, "horizon": 3}}
    data |= {"split": {"test_last": 3, "val_last": 3}, "scaler": "series"}
    training = {"epochs": epochs, "windows_per_series": 5, "stride": 2}
    raw = tiny_config_dict(name="sampled", data=data, training=training)
    raw["data"].pop("sine")
    return write_yaml(tmp_path / "panel.yaml", raw)


@pytest.mark.parametrize("fused", [True, False])
def test_a_sampled_panel_run_resumes_exactly(tmp_path, capsys, monkeypatch, fused):
    config = _panel_config(tmp_path)
    sets = ["--set", f"training.fused={str(fused).lower()}"]
    args = ["--config", str(config), *sets, "--quiet"]
    whole, resumed = whole_and_resumed(tmp_path, monkeypatch, args)
    capsys.readouterr()
    for name in ("history.csv", "series_metrics.csv"):
        assert (whole / name).read_bytes() == (resumed / name).read_bytes()
