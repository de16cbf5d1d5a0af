"""Durable state: the SQLite event log and the state store that folds it into snapshots."""
