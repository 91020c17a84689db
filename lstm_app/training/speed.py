"""`training.jit_compile: auto` and `training.steps_per_execution: auto` (the defaults): the
speed options chosen from the window, the data and the device. Neither changes what is
computed: the same batches in the same order, the same updates (XLA: to float32 rounding).

    jit, steps = speed_options("auto", "auto", window=30, batches=219, epochs=200, fused=True,
                               gpu=False)

Measured on 2 CPU cores, the article's model, batch 64 (bench/speed.py; README, Training speed):

- Steps per execution. Keras calls the compiled training step once per execution, and at this
  size a call costs about as much as the step's arithmetic: 8 steps an execution trained 1.4x
  the windows per second of one step, 3 steps 1.2x, 16 steps 1.1x (no XLA, 14,000 windows an
  epoch). auto: `AUTO_STEPS`, never more than an epoch's batches; where an epoch has fewer than
  `WHOLE_EPOCH_BATCHES` batches, the largest number up to `AUTO_STEPS` that divides them, so
  that one iterator serves the whole fit (`fit.one_iterator`: an execution must end with its
  epoch), which saves two dataset iterators an epoch (~15 ms each).
- XLA. Compiling the fused training step took about 17 s at 30 steps and grows steeply with
  the window (minutes at 120), while it saves a few milliseconds a batch: it pays back only
  over many batches of a short window. auto: on for a fused CPU step of at most
  `XLA_MAX_STEPS` steps whose fit runs at least `XLA_MIN_BATCHES` batches; off otherwise, and
  off on a GPU (the built-in layer's cuDNN kernel; not measured with XLA).
"""

AUTO_STEPS = 8
WHOLE_EPOCH_BATCHES = 64
XLA_MAX_STEPS = 32
XLA_MIN_BATCHES = 10_000


def speed_options(
    jit_compile,
    steps_per_execution,
    window: int | None,
    batches: int | None,
    epochs: int,
    fused: bool,
    gpu: bool,
) -> tuple[bool, int]:
    """`(jit_compile, steps_per_execution)` with "auto" replaced as the module docstring says.

    Args:
        jit_compile: `training.jit_compile`: true, false or "auto".
        steps_per_execution: `training.steps_per_execution`: a number or "auto".
        window: the time steps of the model's input; None: unknown.
        batches: the training batches of an epoch; None: unknown (read shard by shard).
        epochs: the epochs the fit runs.
        fused: whether the stacked LSTM layers train fused (`training_model`).
        gpu: whether TensorFlow sees a GPU.
    """
    if steps_per_execution == "auto":
        steps_per_execution = auto_steps(batches)
    if jit_compile == "auto":
        many = batches is not None and batches * epochs >= XLA_MIN_BATCHES
        short = window is not None and window <= XLA_MAX_STEPS
        jit_compile = fused and not gpu and short and many
    return bool(jit_compile), int(steps_per_execution)


def auto_steps(batches: int | None) -> int:
    """`steps_per_execution: auto` for an epoch of `batches` batches (None: unknown).

    >>> auto_steps(1), auto_steps(6), auto_steps(7), auto_steps(48), auto_steps(219)
    (1, 6, 7, 8, 8)
    """
    if batches is None or batches >= WHOLE_EPOCH_BATCHES:
        return AUTO_STEPS
    return max(d for d in range(1, min(AUTO_STEPS, batches) + 1) if batches % d == 0)
