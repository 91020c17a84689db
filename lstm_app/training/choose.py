"""`data.transforms: auto`: train the model of the config on each candidate transform chain and
keep the one with the lowest validation MAE, in the target's original units.

    choice = choose_transforms(cfg, prepared, say=print)   # prepared: prepare_candidates(...)

Each candidate trains exactly as the run would (same seed, epochs, callbacks, in a temporary
directory) and is scored on the validation split's scored windows, as `metrics.json`'s `val`
scores the run. The test split takes no part. The first (simplest) of equal scores wins.
"""

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from lstm_app.config.schema import Config
from lstm_app.data.choose import TransformChoice, candidate_name
from lstm_app.data.prepare import PreparedData
from lstm_app.errors import RunFailedError
from lstm_app.models.inference import forecast
from lstm_app.training.fit import check_converged, fit_model, make_callbacks, new_model


def validation_mae(cfg: Config, data: PreparedData) -> float:
    """Trains the model of `cfg` on `data` as a run would (its callbacks writing into a
    temporary directory) and returns its validation MAE, original units, scored windows only.
    Raises RunFailedError if the loss diverges."""
    model = new_model(cfg, data)
    with tempfile.TemporaryDirectory() as tmp:
        callbacks = make_callbacks(cfg.training.callbacks, Path(tmp), saves=model)
        model, history = fit_model(cfg, data, callbacks, verbose=0, model=model)
        check_converged(history)
    split = data.splits["val"]
    predicted = forecast(model, data, split, cfg.training.batch_size)
    scored = split.scored()
    return float(np.mean(np.abs(split.raw_target_windows()[scored] - predicted[scored])))


def choose_transforms(
    cfg: Config,
    prepared: dict[tuple[str, ...], PreparedData],
    skipped: dict[str, str] | None = None,
    say: Callable[[str], None] | None = None,
) -> TransformChoice:
    """The candidate of `prepared` (`{transforms: data}`, simplest first) whose trained model
    has the lowest validation MAE. `skipped` lists candidates already left out; `say` gets one
    line per candidate as it is scored."""
    scores, skipped = {}, dict(skipped or {})
    for i, (names, data) in enumerate(prepared.items()):
        name = candidate_name(names)
        started = time.time()
        trial = replace(cfg, data=replace(cfg.data, transforms=names))
        try:
            score = validation_mae(trial, data)
        except RunFailedError:
            score = None
        if score is not None and np.isfinite(score):
            scores[names] = score
            result = f"validation MAE {score:.4g}"
        else:
            result = skipped[name] = (
                "the loss diverged" if score is None else "its forecasts are not finite"
            )
        if say is not None:
            say(
                f"data.transforms: auto: candidate {i + 1} of {len(prepared)}, {name}: {result} "
                f"({time.time() - started:.0f} s)"
            )
    if not scores:
        raise RunFailedError("data.transforms: auto: no candidate trained without diverging")
    chosen = min(scores, key=scores.get)  # the first (simplest) of equals
    return TransformChoice(chosen, {candidate_name(n): s for n, s in scores.items()}, skipped)
