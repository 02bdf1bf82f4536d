"""HTTP routers of the transparency service, with separate input and output models."""
