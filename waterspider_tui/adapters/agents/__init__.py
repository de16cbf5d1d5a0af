"""Headless coding agents: how to launch each, and how to read what it prints."""
