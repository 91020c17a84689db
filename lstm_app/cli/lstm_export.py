"""`lstm-export RUN_DIR --format F [--format F ...] [--out DIR]`: a finished run's model in
formats others load without lstm_app (raw values in, forecasts in the target's units out)."""

from pathlib import Path

from lstm_app.cli.common import ArgumentParser, entry_point, quiet_tensorflow, report_error
from lstm_app.errors import UserInputError
from lstm_app.runs.rundir import RunDir
from lstm_app.serving.formats import FORMATS, check_export


def build_parser() -> ArgumentParser:
    """The `lstm-export` argument parser."""
    parser = ArgumentParser(
        prog="lstm-export",
        description="Export a finished run's model (raw values in, forecasts in the target's "
        "units out) to one or more formats, with metadata.json.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a finished run directory")
    parser.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=FORMATS.names(),
        required=True,
        help="a format to export (repeatable)",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="where to write; default: RUN_DIR/export/"
    )
    return parser


def main(argv=None) -> int:
    """Runs `lstm-export`; returns the exit status."""
    args = build_parser().parse_args(argv)
    formats = list(dict.fromkeys(args.formats))
    where = f"--out {args.out}" if args.out is not None else ""
    try:  # every check before TensorFlow loads
        run = RunDir.finished(args.run_dir)
        check_export(formats, args.out or run.export_dir, run, where)
    except UserInputError as err:
        return report_error("lstm-export", err)
    quiet_tensorflow()
    from lstm_app.serving.exporter import export_run

    try:  # the run's model.keras may still be unreadable
        out = export_run(run.path, formats, args.out, where)
    except UserInputError as err:
        return report_error("lstm-export", err)
    print(f"Exported {', '.join(formats)} to {out}/ (metadata.json describes the inputs)")
    return 0


def run() -> None:
    """Console-script entry point of `lstm-export`."""
    entry_point(main)
