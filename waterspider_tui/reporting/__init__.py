"""Reports built from snapshots: the progress comment, later the aggregator and milestone integrator."""
