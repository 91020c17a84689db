"""Run by tests/test_multi_worker.py, as two processes: stock Keras `fit` (no
`lstm_app.training.multi_worker_fix`) under `MultiWorkerMirroredStrategy` with two workers on
loopback ports, on a tiny model. Prints one JSON line: `{"stock": "trained"}` or
`{"stock": "failed", "error": "..."}`. While keras-team/keras#20585 is open, it fails.

    python tests/keras_20585_canary.py HOST:PORT,HOST:PORT INDEX
"""

import json
import os
import sys

workers, index = sys.argv[1].split(","), int(sys.argv[2])
os.environ["TF_CONFIG"] = json.dumps(
    {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

strategy = tf.distribute.MultiWorkerMirroredStrategy()
x = np.random.default_rng(0).normal(size=(64, 6, 1)).astype("float32")
dataset = tf.data.Dataset.from_tensor_slices((x, x[:, -1])).batch(16)
with strategy.scope():
    model = keras.Sequential([keras.Input((6, 1)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    model.compile("adam", "mse")
try:
    model.fit(dataset, epochs=1, verbose=0)
    print(json.dumps({"stock": "trained"}), flush=True)
except Exception as err:  # what stock Keras raises is the finding
    print(json.dumps({"stock": "failed", "error": f"{type(err).__name__}: {err}"[:300]}))
    sys.stdout.flush()
    os._exit(0)  # the other worker may be waiting in a collective: leave without it
