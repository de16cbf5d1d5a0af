"""Scheduling in simulated time: generated backlogs, the real `plan()` on a fake clock, and the figures."""
