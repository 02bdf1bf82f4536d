"""HTTP routers of the invoicing service, with separate input and output models."""
