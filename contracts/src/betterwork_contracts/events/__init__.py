"""Event models, one module per publishing service."""
