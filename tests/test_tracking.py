"""Runs visible in the tools users open (issue 17): TensorBoard logs in RUN/tensorboard/."""

import pandas as pd
import pytest
from conftest import tiny_config_dict

from lstm_app.config.load import config_from_dict
from lstm_app.errors import ConfigError
from lstm_app.pipeline import train


def _scalars(folder, tag):
    """The values of scalar `tag` in the TensorBoard event files of `folder`, in step order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    import tensorflow as tf

    return [float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)]


def test_tensorboard_logs_every_epochs_losses(tmp_path):
    cfg = config_from_dict(tiny_config_dict(training={"callbacks": {"tensorboard": True}}))
    result = train(cfg, tmp_path / "run", verbose=0)
    logs = tmp_path / "run" / "tensorboard"
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert _scalars(logs / "train", "epoch_loss") == pytest.approx(list(history["loss"]), rel=1e-5)
    assert _scalars(logs / "validation", "epoch_loss") == pytest.approx(
        list(history["val_loss"]), rel=1e-5
    )
    assert len(result.history["loss"]) == 3


def test_tensorboard_settings_are_checked():
    raw = tiny_config_dict(training={"callbacks": {"tensorboard": {"update_freq": "banana"}}})
    with pytest.raises(ConfigError, match=r"training.callbacks.tensorboard.update_freq"):
        config_from_dict(raw)
    off = config_from_dict(tiny_config_dict())
    assert off.training.callbacks.tensorboard.enabled is False
