"""Evaluation: metrics, naive baselines, rolling-origin backtests, plots, the text reports the
commands print, and runs side by side (`compare`)."""
