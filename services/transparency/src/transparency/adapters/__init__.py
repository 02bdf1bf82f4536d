"""Tables, repositories and clients of the outside world of the transparency service (all of its SQL lives here)."""
