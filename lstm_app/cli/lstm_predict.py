"""`lstm-predict --model PATH --input CSV [--output CSV] [--all-windows]`: forecasts by an
exported model from the last rows of a CSV file."""

from pathlib import Path

from lstm_app.cli.common import ArgumentParser, entry_point, quiet_tensorflow, report_error
from lstm_app.errors import UserInputError
from lstm_app.runs.rundir import write_text


def build_parser() -> ArgumentParser:
    """The `lstm-predict` argument parser."""
    parser = ArgumentParser(
        prog="lstm-predict",
        description="Forecast with an exported model from the last rows of a CSV file.",
    )
    parser.add_argument(
        "--model",
        required=True,
        type=Path,
        metavar="PATH",
        help="an export directory, or one of its artefacts (.keras, .onnx, .tflite, saved_model)",
    )
    parser.add_argument(
        "--input", required=True, type=Path, metavar="CSV", help="recent data, as in training"
    )
    parser.add_argument(
        "--output", type=Path, metavar="CSV", help="also write the forecasts here (a new file)"
    )
    parser.add_argument(
        "--all-windows", action="store_true", help="forecast from every window, not the last"
    )
    return parser


def _check_output(path: Path) -> None:
    """UserInputError unless `path` is a new file in a folder that exists (checked before any
    forecasting work)."""
    if path.is_dir():
        raise UserInputError(f"--output {path}: is a directory; give a file name")
    if path.exists():
        raise UserInputError(f"--output {path}: exists; give a new file name")
    folder = path.parent
    if not folder.exists():
        raise UserInputError(f"--output {path}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise UserInputError(f"--output {path}: {folder} is not a folder")


def main(argv=None) -> int:
    """Runs `lstm-predict`; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:  # before TensorFlow loads and anything is forecast
        if args.output is not None:
            _check_output(args.output)
    except UserInputError as err:
        return report_error("lstm-predict", err)
    quiet_tensorflow()
    from lstm_app.serving.predict import forecast_csv, load_forecaster

    try:
        forecaster = load_forecaster(args.model)
        if forecaster.metadata.get("task") == "classification":
            return _classify(forecaster, args)
        table = forecast_csv(forecaster, args.input, args.all_windows)
    except UserInputError as err:
        return report_error("lstm-predict", err)
    if args.output is not None:
        write_text(args.output, table.to_csv(index=False))
    units = forecaster.metadata["target"].get("units")
    target = forecaster.metadata["target"]["name"] + (f" ({units})" if units else "")
    print(f"Forecasts of {target} by {forecaster.path} ({forecaster.format}):")
    print(table.to_string(index=False))
    return 0


def _classify(forecaster, args) -> int:
    """`lstm-predict` with an exported classifier: each sequence (text) of `--input`, its
    predicted class and the probability of every class."""
    from lstm_app.serving.classify import classify_csv

    if args.all_windows:
        raise UserInputError("--all-windows: a classifier reads whole sequences; remove it")
    table, cut = classify_csv(forecaster, args.input)
    if args.output is not None:
        write_text(args.output, table.to_csv(index=False))
    spec = forecaster.metadata["classifier_spec"]
    if cut:
        unit = "words" if spec["text"] else "steps"
        print(
            f"Truncated: {cut} of {len(table)} sequences longer than {spec['max_length']} {unit} "
            f"read to their first {spec['max_length']}."
        )
    print(f"Classes predicted by {forecaster.path} ({forecaster.format}):")
    print(table.to_string(index=False, max_rows=40))
    if "actual" in table:
        print(
            f"Accuracy on these {len(table)}: {(table['actual'] == table['predicted']).mean():.1%}"
        )
    return 0


def run() -> None:
    """Console-script entry point of `lstm-predict`."""
    entry_point(main)
