"""HTTP routers of the advisory service, with separate input and output models."""
