"""What every command shares: an argument parser whose errors are one line, the one-line
report of bad input (exit status 2), and TensorFlow loaded without its log noise."""

import argparse
import logging
import os
import re
import sys
import tempfile

from lstm_app.errors import UserInputError


class ArgumentParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def report_error(prog: str, err: UserInputError) -> int:
    """Prints `prog: error: <one line>` to stderr; returns exit status 2."""
    print(f"{prog}: error: {err}", file=sys.stderr)
    return 2


# What TensorFlow's C++ side prints while it is imported, whatever TF_CPP_MIN_LOG_LEVEL says
# (absl writes it before its log level is read): informational lines, nothing a user can act on.
TENSORFLOW_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} [\d:.]+ +\d+ (port|cudart_stub|cpu_feature_guard|cuda_[a-z_]+)\.cc:\d+\]"
    r"|To enable the following instructions: .* rebuild TensorFlow"
)


def quiet_tensorflow() -> None:
    """Imports TensorFlow with its start-up lines filtered out of stderr (at the file
    descriptor: they come from C++), and turns its and tf2onnx's Python warnings (retracing,
    conversion chatter) down to errors, so that a command's stderr holds what it says itself.
    Anything else written while TensorFlow loads still reaches stderr."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as captured:
            os.dup2(captured.fileno(), 2)
            try:
                import tensorflow  # noqa: F401
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                captured.seek(0)
                text = captured.read().decode("utf-8", errors="replace")
                kept = [line for line in text.splitlines(True) if not TENSORFLOW_NOISE.match(line)]
                sys.stderr.write("".join(kept))
    for name in ("tensorflow", "tf2onnx"):
        logging.getLogger(name).setLevel(logging.ERROR)


def entry_point(main) -> None:
    """Runs `main()` (a command's `main(argv=None) -> int`) and exits with its status; a
    reader that stops reading (`lstm-train --schema | head`) ends it quietly."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:  # as Python's documentation advises: no traceback, no retry
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    sys.exit(status)
