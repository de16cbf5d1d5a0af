"""Sinks: what writes a view of the store outside (GitHub comments and labels, notifications)."""
