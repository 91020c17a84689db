"""Runs: the run directory, its every file name, atomic writers and typed readers (`rundir`)."""
