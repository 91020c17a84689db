"""Data: read a file's table (`reading`), check its cells (`columns`), times (`times`) and steps
(`steps`) into a cleaned series (`series`), the target's transforms (`transforms`), split and
scale it (`prepare`), and cut it into windows and `tf.data` batches (`windows`)."""
