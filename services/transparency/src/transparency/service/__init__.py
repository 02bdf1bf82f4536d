"""Use cases of the transparency service: load through the unit of work, call the domain, save, emit, audit."""
