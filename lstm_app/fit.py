"""Fit: build, compile and fit the model of a config on prepared data, and forecast with it.

These are the steps every training shares (a run, a backtest fold); `trainer.py` adds the run
directory around them.
"""

import dataclasses
import math
from pathlib import Path

import keras

from lstm_app.config import CallbacksConfig, Config
from lstm_app.data import PreparedData, SplitData, make_dataset
from lstm_app.errors import RunFailedError
from lstm_app.models import build_model, compile_model


def _settings(callback_config) -> dict:
    """A callback's config as keyword arguments: its keys are the Keras callback's own."""
    return {k: v for k, v in dataclasses.asdict(callback_config).items() if k != "enabled"}


def make_callbacks(callbacks: CallbacksConfig, run_dir: Path) -> list[keras.callbacks.Callback]:
    """The Keras callbacks that `training.callbacks` turns on, writing into `run_dir`."""
    made = []
    if callbacks.terminate_on_nan.enabled:
        made.append(keras.callbacks.TerminateOnNaN())
    if callbacks.early_stopping.enabled:
        made.append(keras.callbacks.EarlyStopping(**_settings(callbacks.early_stopping)))
    if callbacks.reduce_lr_on_plateau.enabled:
        settings = _settings(callbacks.reduce_lr_on_plateau)
        made.append(keras.callbacks.ReduceLROnPlateau(**settings))
    if callbacks.checkpoint.enabled:
        settings = _settings(callbacks.checkpoint)
        made.append(
            keras.callbacks.ModelCheckpoint(run_dir / "best.keras", save_best_only=True, **settings)
        )
    if callbacks.csv_log.enabled:
        made.append(keras.callbacks.CSVLogger(str(run_dir / "history.csv")))
    return made


def forecast(model: keras.Model, data: PreparedData, split: SplitData, batch_size: int):
    """The model's forecasts for every window of `split`, `(windows, horizon)`, original units."""
    scaled = model.predict(make_dataset(split, batch_size), verbose=0)  # (windows, horizon)
    return data.to_original_units(split, scaled)


def fit_model(cfg: Config, data: PreparedData, callbacks, verbose) -> tuple[keras.Model, dict]:
    """Builds, compiles and fits the model of `cfg` on `data`'s train split (validating on its
    val split), from seed `cfg.seed`.

    Returns:
        The model and its history `{"loss": [...], "val_loss": [...], ...}`.
    """
    keras.utils.set_random_seed(cfg.seed)
    training = cfg.training
    model = compile_model(build_model(cfg.model, data.n_features), training)
    fit = model.fit(
        make_dataset(data.splits["train"], training.batch_size, training.shuffle, cfg.seed),
        validation_data=make_dataset(data.splits["val"], training.batch_size),
        epochs=training.epochs,
        shuffle=False,  # the dataset reshuffles itself (training.shuffle); fit cannot
        callbacks=callbacks,
        verbose=verbose,
    )
    return model, {key: [float(v) for v in values] for key, values in fit.history.items()}


def check_converged(history: dict) -> None:
    """Raises RunFailedError if the training loss became NaN or infinite."""
    if not all(math.isfinite(v) for v in history["loss"]):
        raise RunFailedError(
            f"training diverged: the loss became {history['loss'][-1]} at epoch "
            f"{len(history['loss'])}; try a lower training.learning_rate"
        )
