"""Data: read and clean a series (`io`), the target's transforms (`transforms`), split and
scale it (`prepare`), and cut it into windows and `tf.data` batches (`windows`)."""
