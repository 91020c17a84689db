"""`lstm-compare RUN_DIR... [--out DIR]`: finished runs side by side, printed and written to
`comparison.md` and `comparison.png`."""

from pathlib import Path

from lstm_app.cli.common import ArgumentParser, entry_point, report_error
from lstm_app.errors import UserInputError
from lstm_app.runs.rundir import RUNS_ROOT, RunDir, write_text


def build_parser() -> ArgumentParser:
    """The `lstm-compare` argument parser."""
    parser = ArgumentParser(
        prog="lstm-compare",
        description="Compare finished runs: test metrics and baselines side by side "
        "(printed, and written to comparison.md) and their test forecasts (comparison.png).",
    )
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="run directories")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"write comparison.md and comparison.png here (a new or empty directory); "
        f"default: {RUNS_ROOT}/compare-<timestamp>/",
    )
    return parser


def main(argv=None) -> int:
    """Runs `lstm-compare`; returns the exit status."""
    from lstm_app.evaluation.compare import load_run, plot_comparison
    from lstm_app.jobs.compare import comparison_table

    args = build_parser().parse_args(argv)
    try:
        runs = [load_run(path) for path in args.runs]
        out = RunDir.for_output(args.out, "compare", option="--out")
    except UserInputError as err:
        return report_error("lstm-compare", err)
    table = comparison_table(runs)
    listing = "\n".join(f"- `{run.name}`: {run.path.resolve()}" for run in runs)
    write_text(out / "comparison.md", f"# Comparison of {len(runs)} runs\n\n{table}\n\n{listing}\n")
    out.write_file("comparison.png", lambda path: plot_comparison(runs, path))
    print(table)
    print(f"Written: {out}/comparison.md, {out}/comparison.png")
    return 0


def run() -> None:
    """Console-script entry point of `lstm-compare`."""
    entry_point(main)
