"""Use cases of the advisory service: load through the unit of work, call the domain, save, emit, audit."""
