"""`python -m lstm_app` is `lstm-train`."""

from lstm_app.cli.lstm_train import run

run()
