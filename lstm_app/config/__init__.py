"""Config: the schema (typed dataclasses, one module per section, the root `Config` in
`schema`), the names of the choices (`choices`), the rules across sections (`rules`), the kinds
of run (`kinds`), the validator that builds them from YAML values with one-line errors, and the
loading of YAML files and `--set` overrides. Imports no TensorFlow, and nothing of `lstm_app`
but level 0 (`errors`, `registry`)."""
