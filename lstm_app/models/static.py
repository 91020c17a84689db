"""Static labels embedded (`model.static_embedding: dim`): each per-series label column of a
panel (`data.static`) learnt as a `dim`-dimensional vector instead of fed one-hot.

    StaticEmbedding(sizes=(8, 4), dim=3)
    # (batch, time, numeric + 8 + 4) -> (batch, time, numeric + 2 * 3)

The model's inputs keep their one-hot columns (last, one block per static column, as
`lstm_app.data.panel.static_columns` appends them); the layer multiplies each block by its own
`(labels, dim)` table, which is an embedding lookup written as a product. So the raw window, the
serving graph and every export format stay as they are, and a window whose labels are all 0 (a
label the model never saw) gets the zero vector.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lstm_app")
class StaticEmbedding(keras.layers.Layer):
    """Replaces the one-hot blocks at the end of the inputs by their embeddings.

    Args:
        sizes: the number of labels of each static column, in the order of their blocks.
        dim: the embedding's dimension, the same for every column.
    """

    def __init__(self, sizes, dim: int, **kwargs):
        super().__init__(**kwargs)
        sizes = tuple(int(size) for size in sizes)
        if not sizes or any(size < 1 for size in sizes):
            raise ValueError(f"sizes must be one or more label counts >= 1, got {sizes}")
        if int(dim) < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.sizes, self.dim = sizes, int(dim)

    def build(self, input_shape):
        self.numeric = input_shape[-1] - sum(self.sizes)
        if self.numeric < 0:
            raise ValueError(
                f"inputs of {input_shape[-1]} columns cannot end with one-hot blocks of "
                f"{sum(self.sizes)} columns (sizes {self.sizes})"
            )
        self.tables = [
            self.add_weight(shape=(size, self.dim), initializer="glorot_uniform", name=f"table_{i}")
            for i, size in enumerate(self.sizes)
        ]

    def call(self, inputs):
        pieces = [inputs[..., : self.numeric]] if self.numeric else []
        start = self.numeric
        for size, table in zip(self.sizes, self.tables, strict=True):
            pieces.append(ops.matmul(inputs[..., start : start + size], table))
            start += size
        return ops.concatenate(pieces, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] - sum(self.sizes) + len(self.sizes) * self.dim)

    def get_config(self):
        return {**super().get_config(), "sizes": list(self.sizes), "dim": self.dim}


def static_sizes(feature_names, static) -> tuple[int, ...]:
    """The number of one-hot columns (`column=label`) of each static column, in order."""
    return tuple(
        sum(1 for name in feature_names if name.startswith(f"{column}=")) for column in static
    )
