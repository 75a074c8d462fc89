"""Voice providers and everything that places and follows calls."""
