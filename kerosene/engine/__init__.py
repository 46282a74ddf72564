"""The training engine: data adapters, the loops, logs and distributed set-up."""
