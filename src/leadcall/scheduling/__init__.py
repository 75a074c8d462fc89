"""The one scheduler of future dials: callbacks the leads asked for (and, later, campaign attempts)."""
