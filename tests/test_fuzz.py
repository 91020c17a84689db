"""Fuzzed inputs: generated configs, CSV files and arguments. `lstm-train` either works or
exits 2 with its one-line error: never a traceback, never a hang.

The configs are mutations of a valid one (keys removed, values of random types, extreme
numbers, NaN and infinity, unknown keys) and raw text or bytes; the CSV files have random
headers, cells (NaN, inf, huge, text, empty), timestamps (duplicated, unsorted, unparseable),
encodings (non-UTF-8 bytes, a BOM) and sizes (empty to a few hundred rows). Each example runs
`cli.main` in this process: `--check` for every example (config and data, no training), and a
real training of one epoch for a bounded share of the CSV examples. Integers drawn are small
or absurd (beyond any bound): legal but slow sizes, such as a million epochs, are not fuzzed.

The number of examples: `LSTM_FUZZ_EXAMPLES` (default in `EXAMPLES`); the CI runs the default.
"""

import datetime as dt
import math
import os
import re
import signal
from contextlib import contextmanager

import pytest
import yaml
from conftest import tiny_config_dict
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lstm_app.cli import lstm_train as cli

EXAMPLES = int(os.environ.get("LSTM_FUZZ_EXAMPLES", "150"))
TRAINED_EXAMPLES = max(EXAMPLES // 4, 5)
SECONDS_PER_EXAMPLE = 60  # a hang is anything slower

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the alarm below catches hangs; timing is the machine's business
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples in every run: CI failures reproduce
    database=None,
)


@contextmanager
def no_hang(seconds=SECONDS_PER_EXAMPLE):
    def fail(signum, frame):
        raise TimeoutError(f"no answer in {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(argv, capsys) -> tuple[int, str, str]:
    """`lstm-train argv` in process: exit status, stdout, stderr."""
    capsys.readouterr()
    with no_hang():
        try:
            status = cli.main([str(a) for a in argv])
        except SystemExit as exit_:  # argparse
            status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_works_or_one_line_error(status, err, works=0):
    """Exit 0, or exit 2 with one `lstm-train: error:` line and no traceback. Counts the
    outcomes (`pytest --hypothesis-show-statistics` prints them)."""
    lines = [line for line in err.splitlines() if line.strip()]
    event(f"exit {status}")
    if status == works:
        return
    assert status == 2, f"exit {status}: {err}"
    errors = [line for line in lines if line.startswith("lstm-train: error: ")]
    assert len(errors) == 1, err
    event(re.sub(r"/\S+|'.*?'|\d+", "_", errors[0])[19:60])  # the kind of error
    assert "Traceback" not in err, err


# ---- configs

NUMBERS = st.one_of(
    st.integers(-5, 200),
    st.sampled_from([0, -1, 2**31, 2**63, -(2**63), 10**12, 10**100]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 1e300, math.inf, -math.inf, math.nan, 0.5, 1.0]),
)
SCALARS = st.one_of(
    NUMBERS, st.none(), st.booleans(), st.text(max_size=12), st.sampled_from(["", "1e3", "NaN"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(tree, prefix=()):
    """Every key path in a nested dict/list config."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    for key, value in items:
        yield (*prefix, key)
        if isinstance(value, (dict, list)):
            yield from _paths(value, (*prefix, key))


@st.composite
def mutated_configs(draw):
    """A valid tiny config with one to four keys removed, replaced or added."""
    raw = tiny_config_dict(training={"epochs": 1})
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(raw))
        path = draw(st.sampled_from(paths))
        *parents, last = path
        parent = raw
        for key in parents:
            parent = parent[key]
        action = draw(st.sampled_from(["remove", "replace", "replace", "add"]))
        if action == "remove" and isinstance(parent, dict):
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(VALUES)
        else:
            parent[last] = draw(VALUES)
    return raw


@FUZZ
@given(raw=mutated_configs())
def test_fuzzed_config_checks_or_fails_in_one_line(raw, tmp_path, capsys):
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    status, out, err = run_cli(["--config", path, "--check"], capsys)
    assert_works_or_one_line_error(status, err)
    if status == 0:
        assert out.startswith(f"{path}: OK;")


@pytest.mark.slow
@settings(FUZZ, max_examples=TRAINED_EXAMPLES)
@given(raw=mutated_configs())
def test_fuzzed_config_trains_or_fails_in_one_line(raw, tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "fuzz.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    run = folder / "run"
    status, _, err = run_cli(["--config", path, "--run-dir", run, "--quiet"], capsys)
    if status == 1:  # a run that diverged: said in one line, marked failed
        assert err.count("lstm-train: training diverged") == 1, err
        event("exit 1 (diverged)")
        return
    assert_works_or_one_line_error(status, err)
    if status == 0:
        assert (run / "metrics.json").is_file()


@FUZZ
@given(
    content=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda t: t.encode("utf-8")),
        st.sampled_from(
            [b"", b"\xef\xbb\xbfname: x\n", b"model: [", b"- 1\n- 2\n", b"a: &a [*a]\n"]
        ),
    ),
    overrides=st.lists(st.text(max_size=20), max_size=2),
)
def test_fuzzed_config_bytes_and_overrides_fail_in_one_line(content, overrides, tmp_path, capsys):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(content)
    argv = ["--config", path, "--check", *(a for o in overrides for a in ("--set", o))]
    status, _, err = run_cli(argv, capsys)
    assert status == 2, err
    assert_works_or_one_line_error(status, err)


# ---- CSV files

BAD_CELLS = st.one_of(
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e308", "-1e308", "1e-320", "NA", "1,5"]),
    st.sampled_from(["1.7976931348623157e308", "9" * 400, "0x10", "  3 ", "+4", "1_000"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=6),
)
START = dt.date(2000, 1, 1)
MISSING = ["error", "drop", "ffill", "interpolate"]


@st.composite
def csv_files(draw):
    """CSV bytes with columns t (a date), y (the target), x (a feature): a plausible series
    with up to three faults (bad cells, repeated or unsorted dates) and odd encodings."""
    rows = draw(st.sampled_from([0, 1, 3, 30, 60, 200, 200, 200]))
    size = draw(st.sampled_from([1.0] * 8 + [1e306, 1e35, 1e-35, 1e-306]))  # hard to scale
    cells = [
        [(START + dt.timedelta(days=d)).isoformat(), repr((math.sin(d / 5) + d) * size), str(d)]
        for d in range(rows)
    ]
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 3])) if rows else 0):
        row, column = draw(st.integers(0, rows - 1)), draw(st.integers(0, 2))
        kind = draw(st.sampled_from(["cell", "cell", "repeat", "swap"]))
        if kind == "cell":
            cells[row][column] = draw(BAD_CELLS)
        elif kind == "repeat" and row:
            cells[row][0] = cells[row - 1][0]
        elif kind == "swap" and row:
            cells[row][0], cells[row - 1][0] = cells[row - 1][0], cells[row][0]
    header = draw(st.sampled_from(["t,y,x"] * 14 + ["t;y;x", "y,x", "t,Y,x", "", "t,y,x,t", "t,y"]))
    lines = ([header] if header else []) + [",".join(line) for line in cells]
    data = ("\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))).encode("utf-8")
    extra = draw(st.sampled_from(["none"] * 12 + ["bom", "latin1", "garbage", "nul"]))
    if extra == "bom":
        data = b"\xef\xbb\xbf" + data
    elif extra == "latin1":
        data = data.replace(b"y", "\u00ff".encode("latin-1"), 1)
    elif extra == "garbage":
        middle = len(data) // 2
        data = data[:middle] + draw(st.binary(min_size=1, max_size=8)) + data[middle:]
    elif extra == "nul":
        data = data + b"\x00\x00"
    return data


def _csv_config(tmp_path, csv_bytes, missing="error"):
    (tmp_path / "fuzz.csv").write_bytes(csv_bytes)
    raw = tiny_config_dict(training={"epochs": 1})
    raw["data"] = {
        "source": "csv",
        "path": "fuzz.csv",
        "target": "y",
        "features": ["y", "x"],
        "time_column": "t",
        "missing": missing,
        "window": {"input_width": 4, "horizon": 1},
        "split": {"train": 0.6, "val": 0.2, "test": 0.2},
    }
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@FUZZ
@given(csv_bytes=csv_files(), missing=st.sampled_from(MISSING))
def test_fuzzed_csv_checks_or_fails_in_one_line(csv_bytes, missing, tmp_path, capsys):
    config = _csv_config(tmp_path, csv_bytes, missing)
    status, _, err = run_cli(["--config", config, "--check"], capsys)
    assert_works_or_one_line_error(status, err)


@pytest.mark.slow
@settings(FUZZ, max_examples=TRAINED_EXAMPLES)
@given(csv_bytes=csv_files(), missing=st.sampled_from(MISSING))
def test_fuzzed_csv_trains_or_fails_in_one_line(csv_bytes, missing, tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("fuzz")
    config = _csv_config(folder, csv_bytes, missing)
    run = folder / "run"
    status, out, err = run_cli(["--config", config, "--run-dir", run, "--quiet"], capsys)
    assert_works_or_one_line_error(status, err)
    if status == 0:
        assert "test" in out and (run / "metrics.json").is_file()
    else:
        assert not run.exists() or not any(run.iterdir())  # refused before anything is written
