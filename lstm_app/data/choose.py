"""`data.transforms: auto`: the transforms tried, and what was chosen.

    candidates(target, season_length)  -> [(), ("diff",), ...]   simplest first
    TransformChoice(chosen, scores)     what auto chose, and every candidate's score

The choice itself trains the model on each candidate (`lstm_app.training.choose`); this module
holds what needs no TensorFlow: the candidates and the record of the choice.
"""

from dataclasses import dataclass

import numpy as np

AUTO = "auto"


@dataclass(frozen=True)
class TransformChoice:
    """What `data.transforms: auto` chose, and why.

    Attributes:
        chosen: the transforms chosen, in the order they apply.
        scores: `{candidate: validation MAE}` of every candidate trained, in the target's
            original units; candidates are written `none`, `diff`, `log+diff`, ...
        skipped: `{candidate: why}` for candidates that could not be used (a log of
            non-positive values, a diverged training).
    """

    chosen: tuple[str, ...]
    scores: dict[str, float]
    skipped: dict[str, str]

    def sentence(self) -> str:
        """One line for the reports: what was chosen and every candidate's score."""
        scores = ", ".join(f"{name} {mae:.4g}" for name, mae in self.scores.items())
        text = (
            f"data.transforms: auto chose [{', '.join(self.chosen)}], the lowest validation MAE "
            f"of the model trained on each candidate ({scores})"
        )
        if self.skipped:
            text += "; left out: " + ", ".join(f"{n} ({why})" for n, why in self.skipped.items())
        return text


def candidate_name(names) -> str:
    """`()` -> `none`, `("log", "diff")` -> `log+diff`."""
    return "+".join(names) or "none"


def candidates(target: np.ndarray, season_length: int) -> list[tuple[str, ...]]:
    """The transform chains `auto` tries, simplest first (the first of equal scores wins):
    none, `diff`, and with a season (`season_length` >= 2) `seasonal_diff` and both; then each
    of them after `log` when every value of the target is positive."""
    differences = [(), ("diff",)]
    if season_length >= 2:
        differences += [("seasonal_diff",), ("diff", "seasonal_diff")]
    chains = list(differences)
    if np.all(target[np.isfinite(target)] > 0):
        chains += [("log", *chain) for chain in differences]
    return chains
