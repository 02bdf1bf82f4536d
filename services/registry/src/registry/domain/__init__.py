"""Registry rules, free of I/O."""
