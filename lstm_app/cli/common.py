"""What every command shares: an argument parser whose errors are one line, the one-line
report of bad input (exit status 2), and TensorFlow's log noise turned down before it loads."""

import argparse
import os
import sys

from lstm_app.errors import UserInputError


class ArgumentParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def report_error(prog: str, err: UserInputError) -> int:
    """Prints `prog: error: <one line>` to stderr; returns exit status 2."""
    print(f"{prog}: error: {err}", file=sys.stderr)
    return 2


def quiet_tensorflow() -> None:
    """Silences TensorFlow's C++ log lines, unless the user set their own level."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def entry_point(main) -> None:
    """Runs `main()` (a command's `main(argv=None) -> int`) and exits with its status."""
    sys.exit(main())
