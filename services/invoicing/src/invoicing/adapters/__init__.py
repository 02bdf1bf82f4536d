"""Tables, repositories and clients of the outside world of the invoicing service (all of its SQL lives here)."""
