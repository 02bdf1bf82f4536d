"""Pure rules of the invoicing service: records, state machines, policies; no I/O, no framework imports."""
