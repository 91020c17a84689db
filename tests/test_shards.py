"""Panels bigger than memory (issue 15): Parquet shards scanned, prepared shard by shard as
the in-memory path prepares the same panel from a CSV, and streamed through tf.data with a batch
order drawn from (seed, epoch) alone, one shard in memory at a time."""

import gc
import subprocess
import sys
import weakref

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lstm_app.config.schema import DataConfig
from lstm_app.config.validate import build
from lstm_app.data import shards
from lstm_app.data.prepare import SPLITS
from lstm_app.data.shards import scan_shards, shard_paths, shard_split, stream_dataset
from lstm_app.errors import DataError

# six series in two shards; s2 is its test block alone, too short for any window; labels A
# only in shard 0, C only in shard 1
LENGTHS = (40, 30, 3, 36, 40, 24)
KINDS = ("A", "B", "A", "C", "B", "C")
SHARDS = ((0, 1, 2), (3, 4, 5))


def _frame(series=range(6), seed=0) -> pd.DataFrame:
    """The rows of `series`, interleaved (a series' rows need not be together): monthly,
    each series at its own level."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in series:
        m = np.arange(LENGTHS[k])
        y = 100 * (k + 1) + 10 * np.sin(2 * np.pi * m / 12) + m + rng.normal(size=len(m))
        times = pd.date_range("2000-01-01", periods=len(m), freq="MS")
        frames.append(pd.DataFrame({"id": f"s{k}", "t": times, "y": y, "kind": KINDS[k]}))
    frame = pd.concat(frames, ignore_index=True)
    step = frame.groupby("id", sort=False).cumcount()
    return frame.iloc[np.argsort(step.to_numpy(), kind="stable")].reset_index(drop=True)


def _write(folder, frames, nan: bool = False) -> None:
    """`frames` as shards `part-<i>.parquet` in `folder`; `nan`: NaN targets stay NaN (pyarrow
    would store them as empty cells)."""
    folder.mkdir(exist_ok=True)
    for i, frame in enumerate(frames):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if nan:
            y = pa.array(frame["y"].to_numpy(), from_pandas=False)
            table = table.set_column(table.schema.get_field_index("y"), "y", y)
        pq.write_table(table, folder / f"part-{i}.parquet")


def _data(path, **keys) -> DataConfig:
    raw = {"path": str(path), "target": "y", "time_column": "t", "series_id": "id"}
    raw |= {"static": ["kind"], "window": {"input_width": 6, "horizon": 3}, "scaler": "series"}
    raw |= {"split": {"test_last": 3, "val_last": 3}}
    return build(DataConfig, {**raw, **keys}, ("data",))


def _both(tmp_path, **keys):
    """The same panel as two Parquet shards and as one CSV: `(sharded, in-memory prepared)`."""
    from lstm_app.data.panel import prepare_panel

    frames = [_frame(series) for series in SHARDS]
    _write(tmp_path / "shards", frames)
    csv = tmp_path / "panel.csv"
    pd.concat(frames).to_csv(csv, index=False, date_format="%Y-%m-%d")
    return scan_shards(_data(tmp_path / "shards", **keys)), prepare_panel(_data(csv, **keys))


def _sorted_windows(batches) -> np.ndarray:
    """Every window of `batches`, flattened to one row (inputs then targets), rows sorted."""
    rows = np.concatenate(
        [np.concatenate([np.reshape(x, (len(x), -1)), y], axis=1) for x, y in batches]
    )
    return rows[np.lexsort(rows.T[::-1])]


FRACTIONS = {"split": {"train": 0.5, "val": 0.25, "test": 0.25}}
FRACTIONS |= {"window": {"input_width": 4, "horizon": 2}}
SETTINGS = [
    {"scaler": "series"},
    {"scaler": "window"},
    {"scaler": "window_abs"},
    {"scaler": "none", **FRACTIONS},
    {"scaler": "series", **FRACTIONS},
]


@pytest.mark.parametrize("keys", SETTINGS)
def test_each_split_of_the_shards_is_the_in_memory_panels(tmp_path, keys):
    from lstm_app.data.panel import joined_data

    panel, prepared = _both(tmp_path, **keys)
    assert panel.feature_names == prepared.feature_names == ("y", "kind=A", "kind=B", "kind=C")
    assert panel.static == {"kind": ("A", "B", "C")} and panel.series_per_shard == (3, 3)
    joined = joined_data(prepared, SPLITS)
    for name in SPLITS:
        parts = [shard_split(panel, i, name) for i in range(2)]
        assert [skipped for _, skipped in parts] == [1, 0]  # s2, as prepare_panel
        expected = joined.splits[name]
        for field in ("features", "target", "raw_target"):
            got = np.concatenate([getattr(split, field) for split, _ in parts])
            np.testing.assert_allclose(got, getattr(expected, field), rtol=1e-6, atol=1e-6)
        offset = len(parts[0][0].target)
        starts = np.concatenate([parts[0][0].starts, parts[1][0].starts + offset])
        np.testing.assert_array_equal(starts, expected.starts)
        np.testing.assert_array_equal(
            np.concatenate([split.series_windows for split, _ in parts]), expected.series_windows
        )
        assert parts[0][0].window_scaling == expected.window_scaling


@pytest.mark.parametrize("keys", SETTINGS[:2])
def test_the_streamed_windows_are_the_in_memory_training_windows(tmp_path, keys):
    from lstm_app.data.panel import joined_data
    from lstm_app.data.windows import make_dataset

    panel, prepared = _both(tmp_path, **keys)
    memory = make_dataset(joined_data(prepared).splits["train"], 1000)
    streamed = [(x.numpy(), y.numpy()) for x, y in stream_dataset(panel, 7, seed=3)]
    assert max(len(x) for x, _ in streamed) == 7
    np.testing.assert_allclose(
        _sorted_windows(streamed),
        _sorted_windows((x.numpy(), y.numpy()) for x, y in memory),
        rtol=1e-5,
        atol=1e-5,
    )


def _batches(dataset):
    return [(x.numpy(), y.numpy()) for x, y in dataset]


def test_the_batches_are_a_function_of_seed_and_epoch(tmp_path):
    import tensorflow as tf

    panel, _ = _both(tmp_path)
    first = _batches(stream_dataset(panel, 5, seed=1, epoch=0))
    again = _batches(stream_dataset(panel, 5, seed=1, epoch=0))
    for (x, y), (x2, y2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)
    later = _batches(stream_dataset(panel, 5, seed=1, epoch=1))
    assert not np.array_equal(
        np.concatenate([y for _, y in first]), np.concatenate([y for _, y in later])
    )
    epoch = tf.Variable(0, dtype=tf.int64)
    dataset = stream_dataset(panel, 5, seed=1, epoch=epoch)  # read as each iteration starts
    epoch.assign(1)
    for (_, y), (_, y2) in zip(_batches(dataset), later, strict=True):
        np.testing.assert_array_equal(y, y2)


@pytest.mark.filterwarnings("ignore:Your input ran out of data")  # its first epoch
def test_keras_fit_gets_each_epochs_order_and_reads_each_shard_once_an_epoch(tmp_path, monkeypatch):
    import keras

    from lstm_app.training.fit import EpochNumber

    panel, _ = _both(tmp_path)
    epochs, reads = [], []
    order, split = shards.shard_order, shards.shard_split
    monkeypatch.setattr(shards, "shard_order", lambda n, s, e: epochs.append(e) or order(n, s, e))
    monkeypatch.setattr(shards, "shard_split", lambda *a: reads.append(a[1]) or split(*a))
    number = EpochNumber(0)
    model = keras.Sequential([keras.Input((None, 4)), keras.layers.LSTM(4), keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    dataset = stream_dataset(panel, 8, seed=0, epoch=number.epoch)
    fit = model.fit(dataset, epochs=3, shuffle=False, verbose=0, callbacks=[number])
    assert epochs == [0, 1, 2] and sorted(reads) == [0, 0, 0, 1, 1, 1]
    assert len(fit.history["loss"]) == 3


def test_windows_per_series_draws_n_windows_of_each_series(tmp_path):
    frame = _frame()
    frame["y"] = 1000.0 * frame["id"].str[1:].astype(int) + frame.groupby("id").cumcount()
    _write(tmp_path / "shards", [frame[frame["id"].isin([f"s{k}" for k in s])] for s in SHARDS])
    panel = scan_shards(_data(tmp_path / "shards", scaler="none"))
    drawn = []
    for epoch in (0, 1):
        batches = _batches(stream_dataset(panel, 4, seed=2, epoch=epoch, windows_per_series=5))
        drawn.append(np.concatenate([x[:, 0, 0] for x, _ in batches]))  # (windows,) first input
    for firsts in drawn:
        series = (firsts // 1000).astype(int)
        assert np.bincount(series, minlength=6).tolist() == [5, 5, 0, 5, 5, 5]  # s2: too short
    assert not np.array_equal(drawn[0], drawn[1])  # another epoch, other windows


def test_only_one_shards_split_is_held_at_a_time(tmp_path, monkeypatch):
    frames = [_frame(series) for series in ((0, 1), (3,), (4, 5))]
    _write(tmp_path / "shards", frames)
    panel = scan_shards(_data(tmp_path / "shards"))
    held, alive = [], []
    real = shards.shard_split

    def counting(*args, **keys):
        gc.collect()
        held.append(sum(ref() is not None for ref in alive))  # earlier shards' arrays
        split, skipped = real(*args, **keys)
        alive.append(weakref.ref(split.features))
        return split, skipped

    monkeypatch.setattr(shards, "shard_split", counting)
    assert len(_batches(stream_dataset(panel, 3, seed=0))) > 3
    assert held == [0, 0, 0]


def test_shard_paths(tmp_path):
    _write(tmp_path / "many", [_frame([k]) for k in range(3)])
    (tmp_path / "many" / "notes.txt").write_text("not a shard")
    assert [p.name for p in shard_paths(tmp_path / "many")] == [
        f"part-{i}.parquet" for i in range(3)
    ]
    one = tmp_path / "many" / "part-1.parquet"
    assert shard_paths(one) == [one]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: the folder holds no \*.parquet file"):
        shard_paths(tmp_path / "empty")
    with pytest.raises(DataError, match=r"gone: no such file or folder \(data.path\)"):
        shard_paths(tmp_path / "gone")


def _one_line_error(call, message: str) -> str:
    """The message of the DataError that `call()` raises: one line, matching `message`."""
    with pytest.raises(DataError, match=message) as caught:
        call()
    assert "\n" not in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("twice", r"series 's1' is in two shards, \S+part-0.parquet and \S+part-1.parquet; "),
        (
            "static",
            r"part-0.parquet: series 's1', column 'kind' \(data.static\[0\]\): 'B' at row 1 ",
        ),
        ("repeat", r"part-0.parquet: series 's1', row 7: time 2000-03-01 does not come after"),
        ("nan", r"part-0.parquet: series 's0', time 2000-04-01, column 'y' \(data.target\): nan "),
        ("inf", r"part-0.parquet: series 's0', time 2000-04-01, column 'y' \(data.target\): inf "),
        ("empty", r"part-0.parquet: series 's0', time 2000-04-01, column 'y' \(data.target\): em"),
        ("no column", r"part-0.parquet: no column 'kind' \(data.static\[0\]\); the shard has"),
    ],
)
def test_a_problem_in_a_shard_is_one_line_naming_it(tmp_path, change, message):
    first, second = _frame((0, 1)), _frame((3, 4))
    # rows of shard 0: s0, s1 alternate; row 6 is s0's fourth month, row 7 s1's fourth
    if change == "twice":
        second = pd.concat([second, _frame((1,))])
    elif change == "static":
        first.loc[9, "kind"] = "other"
    elif change == "repeat":
        first.loc[7, "t"] = first.loc[5, "t"]  # s1's fourth month repeats its third
    elif change == "nan":
        first.loc[6, "y"] = np.nan
    elif change == "inf":
        first.loc[6, "y"] = np.inf
    elif change == "empty":
        first["y"] = pd.array(first["y"], dtype="Float64")
        first.loc[6, "y"] = pd.NA
    else:
        first = first.drop(columns="kind")
    _write(tmp_path / "shards", [first, second], nan=change == "nan")
    data = _data(tmp_path / "shards")

    def read():
        shard_split(scan_shards(data), 0)

    _one_line_error(read, message)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"features": ["y", "x"]}, r"data.features: only the target \('y'\) is streamed"),
        ({"transforms": ["diff"]}, r"data.transforms: not applied to Parquet shards yet"),
        ({"missing": "ffill"}, r"data.missing: only error is supported for Parquet shards"),
        ({"time_format": "%Y"}, r"data.time_format: not read from Parquet shards"),
    ],
)
def test_what_is_not_streamed_yet_is_refused_naming_the_key(tmp_path, keys, message):
    _write(tmp_path / "shards", [_frame((0,))])
    data = _data(tmp_path / "shards", **keys)
    text = _one_line_error(lambda: scan_shards(data), message)
    assert text.startswith(str(tmp_path / "shards"))


def test_reading_shards_does_not_import_tensorflow():
    code = "import sys, lstm_app.data.shards; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
