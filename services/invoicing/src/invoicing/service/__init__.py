"""Use cases of the invoicing service: load through the unit of work, call the domain, save, emit, audit."""
