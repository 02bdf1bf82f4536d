"""Pure rules of the advisory service: records, state machines, policies; no I/O, no framework imports."""
