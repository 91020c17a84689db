"""The command-line tools, one module each: they parse arguments and call the API."""
