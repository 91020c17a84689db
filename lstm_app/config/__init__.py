"""Config: the schema (typed dataclasses), the validator that builds them from YAML values
with one-line errors, and the loading of YAML files and `--set` overrides. Imports no
TensorFlow."""
