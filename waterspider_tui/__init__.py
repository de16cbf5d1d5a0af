"""waterspider: turn a backlog of issues into finished work with headless coding agents."""

__version__ = "0.1.0"
