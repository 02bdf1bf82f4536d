"""Pure rules of the transparency service: records, state machines, policies; no I/O, no framework imports."""
