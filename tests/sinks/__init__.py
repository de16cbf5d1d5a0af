"""Tests of the outbox that drives sinks from the store, and of the sink cursors it keeps there."""
