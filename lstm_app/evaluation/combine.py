"""A network's forecasts combined with statistical ones (`model.combine`): each series' forecast
is the median, step by step, of the network's and those of the statistical models named (the M4
competition's lesson: a combination with statistical forecasts is hard to beat).

    combined, alone = combine_each(parts, forecasts, "test", ("ets", "theta"))

A series a statistical model cannot forecast (too short to fit) keeps the network's forecast,
and is counted in `alone`. The statistical forecasts are the baselines' (fitted on each series
up to the split's first origin: `lstm_app.models.statistical`), computed once per series.
"""

import numpy as np

from lstm_app.evaluation.baselines import forecasts_of
from lstm_app.models.statistical import combine


def combine_each(parts, forecasts, split_name: str, names) -> tuple[list[np.ndarray], int]:
    """`(combined forecasts, how many series kept the network's alone)` of the series `parts`
    (PreparedData) whose network forecasts of their split `split_name` are `forecasts`,
    `[(windows, horizon)]`."""
    combined, alone = [], 0
    for part, network in zip(parts, forecasts, strict=True):
        split = part.splits[split_name]
        statistical = forecasts_of(part, split, names)
        if len(statistical) < len(names) or split.n_windows == 0:
            combined.append(network)
            alone += split.n_windows > 0
            continue
        combined.append(combine(network, [statistical[name] for name in names]))
    return combined, alone
