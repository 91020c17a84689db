"""`python -m lstm_app` is `lstm-train`."""

from lstm_app.cli import run

run()
