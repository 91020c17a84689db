"""Studies that use lstm_app, not shipped inside it: `adding` (the long-memory lab). The
notebooks and bench scripts import them from the repository root."""
