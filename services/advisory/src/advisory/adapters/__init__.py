"""Tables, repositories and clients of the outside world of the advisory service (all of its SQL lives here)."""
