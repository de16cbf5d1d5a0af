"""Tests of the Textual control center against a FakeEngine."""
