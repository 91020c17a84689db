"""The first things a new user gets wrong, each answered in one line that names the file or
option and says what to do: a spreadsheet or binary file given as a CSV, a file that is not
UTF-8, a CSV separated by ';' or tabs, and messages that speak of the command being run
(`lstm-predict --input`, `lstm-compare --out`) and of a run directory it cannot write."""

import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest
from conftest import tiny_config_dict

from lstm_app.config.load import config_from_dict
from lstm_app.data.series import load_series
from lstm_app.errors import ConfigError, DataError, UserInputError
from lstm_app.runs.rundir import RunDir

ROWS = "t,y\n" + "".join(f"2020-01-{i + 1:02d},{i}\n" for i in range(20))


def _config(path: Path, **data):
    raw = {"source": "csv", "path": str(path), "target": "y", "time_column": "t", **data}
    raw["window"] = {"input_width": 2, "horizon": 1}
    return config_from_dict(tiny_config_dict(data=raw))


def _error(path: Path, **data) -> str:
    with pytest.raises(DataError) as err:
        load_series(_config(path, **data).data)
    text = str(err.value)
    assert "\n" not in text
    return text


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


# ---- 1. spreadsheets and binary files; the real offset of a byte that is not UTF-8


@pytest.mark.parametrize(
    "name, content, expected",
    [
        (
            "series.xlsx",
            _xlsx(),
            "an Excel workbook, not a CSV file; save the sheet as CSV (UTF-8)",
        ),
        (
            "series.csv",  # misnamed: the content decides
            _xlsx(),
            "an Excel workbook, not a CSV file; save the sheet as CSV (UTF-8)",
        ),
        (
            "series.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4,
            "an Excel workbook (.xls), not a CSV file; save the sheet as CSV (UTF-8)",
        ),
        (
            "series.parquet",  # Parquet is read; a broken one says so
            b"PAR1" + bytes(range(256)) * 4 + b"PAR1",
            "cannot be read as Parquet: ",
        ),
        ("series.bin", bytes(range(256)) * 4, "a binary file, not a CSV file (UTF-8 text)"),
    ],
)
def test_a_spreadsheet_or_binary_file_is_named_for_what_it_is(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    text = _error(path)
    assert text.startswith(f"{path}: {expected}")


def test_non_utf8_text_gives_the_byte_offset_and_line_in_the_file(tmp_path):
    path = tmp_path / "series.csv"
    head = ("t,y\n" + "".join(f"{1000 + i},{i}\n" for i in range(60_000))).encode()
    path.write_bytes(head + b"99999,caf\xe9\n")
    offset = len(head) + len(b"99999,caf")
    line = head.count(b"\n") + 1
    text = _error(path)
    assert f"not UTF-8 text (byte {offset}) at line {line}; save it as UTF-8" in text


def test_non_utf8_text_in_the_first_line(tmp_path):
    path = tmp_path / "series.csv"
    path.write_bytes(b"t,y\n\xff\xfe,1\n")
    assert "not UTF-8 text (byte 4) at line 2; save it as UTF-8" in _error(path)


def test_gzip_csv_is_still_read(tmp_path):
    path = tmp_path / "series.csv.gz"
    path.write_bytes(gzip.compress(ROWS.encode()))
    assert len(load_series(_config(path).data)) == 20


# ---- 2. data.separator


def test_semicolon_csv_is_read_with_data_separator(tmp_path):
    path = tmp_path / "series.csv"
    path.write_text(ROWS.replace(",", ";"))
    series = load_series(_config(path, separator=";").data)
    assert list(series.target) == list(range(20))


def test_tab_csv_is_read_with_data_separator(tmp_path):
    path = tmp_path / "series.tsv"
    path.write_text(ROWS.replace(",", "\t"))
    assert len(load_series(_config(path, separator="\t").data)) == 20


@pytest.mark.parametrize(
    "sep, hint",
    [
        (";", "the header looks separated by ';': set data.separator: ';'"),
        ("\t", 'the header looks separated by tabs: set data.separator: "\\t"'),
    ],
)
def test_a_header_separated_otherwise_says_to_set_data_separator(tmp_path, sep, hint):
    path = tmp_path / "series.csv"
    path.write_text(ROWS.replace(",", sep))
    text = _error(path)
    assert text.startswith(f"{path}: ") and text.endswith(hint)


def test_data_separator_must_be_one_character(tmp_path):
    path = tmp_path / "series.csv"
    path.write_text(ROWS)
    with pytest.raises((ConfigError, DataError), match=r"data.separator.*one character"):
        load_series(_config(path, separator=";;").data)


def test_default_separator_is_a_comma():
    assert config_from_dict(tiny_config_dict()).data.separator == ","


# ---- 4. messages that speak of the command being run


def _fake_export(tmp_path, **data) -> Path:
    """A model.keras beside a card whose training config reads a CSV (never loaded: the CSV
    is refused first)."""
    export = tmp_path / "export"
    export.mkdir()
    (export / "model.keras").write_bytes(b"not loaded")
    config = tiny_config_dict(
        data={
            "source": "csv",
            "path": str(tmp_path / "train.csv"),
            "target": "y",
            "time_column": "t",
            **data,
        }
    )
    (export / "metadata.json").write_text(json.dumps({"config": config}))
    return export / "model.keras"


def _predict(capsys, model, csv) -> str:
    from lstm_app.cli import lstm_predict

    assert lstm_predict.main(["--model", str(model), "--input", str(csv)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_predict_names_input_for_a_missing_csv(tmp_path, capsys):
    model = _fake_export(tmp_path)
    err = _predict(capsys, model, tmp_path / "none.csv")
    assert err == f"lstm-predict: error: {tmp_path / 'none.csv'}: data file not found (--input)"


def test_predict_names_input_for_a_directory(tmp_path, capsys):
    model = _fake_export(tmp_path)
    err = _predict(capsys, model, tmp_path)
    assert "(--input)" in err and "data.path" not in err


def test_predict_says_the_training_config_decides_missing_values(tmp_path, capsys):
    model = _fake_export(tmp_path)
    csv = tmp_path / "recent.csv"
    csv.write_text(ROWS.replace(",5\n", ",\n"))
    err = _predict(capsys, model, csv)
    assert "set data.missing" not in err
    assert err.startswith(f"lstm-predict: error: {csv}: missing values in 'y': 1 (first at line 7)")
    assert (
        "the model's training config decides how they are handled (its data.missing: error)" in err
    )


def test_predict_reads_with_the_training_separator(tmp_path, capsys):
    model = _fake_export(tmp_path)
    csv = tmp_path / "recent.csv"
    csv.write_text(ROWS.replace(",", ";"))
    err = _predict(capsys, model, csv)
    assert "set data.separator" not in err
    assert "the header looks separated by ';'" in err
    assert "the model's training config reads it with data.separator ','" in err


def test_compare_out_errors_name_out(tmp_path, monkeypatch, capsys):
    from lstm_app.cli import lstm_compare
    from lstm_app.evaluation import compare

    monkeypatch.setattr(compare, "load_run", lambda path: path)
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    assert lstm_compare.main([str(tmp_path), "--out", str(full)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"lstm-compare: error: --out {full}: is not empty")
    assert "--run-dir" not in err


def test_for_output_and_claim_name_the_option(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(UserInputError, match=r"^--out .*afile: is a file"):
        RunDir.for_output(afile, "compare", option="--out")
    with pytest.raises(UserInputError, match=r"^--out .*: cannot create it"):
        RunDir(afile / "sub").claim(option="--out")
    with pytest.raises(UserInputError, match=r"^--run-dir .*afile: is a file"):
        RunDir.for_training(afile, "x")


# ---- 5. a run directory that cannot be written


def test_an_unwritable_empty_run_dir_is_refused_in_one_line(tmp_path, monkeypatch):
    import lstm_app.runs.rundir as rundir

    target = tmp_path / "locked"
    target.mkdir()
    real = rundir.os.access
    monkeypatch.setattr(
        rundir.os, "access", lambda p, mode, **kw: Path(p) != target and real(p, mode, **kw)
    )
    with pytest.raises(UserInputError) as err:
        RunDir.for_training(target, "x")
    assert str(err.value) == f"--run-dir {target}: cannot write in it (permission denied)"
