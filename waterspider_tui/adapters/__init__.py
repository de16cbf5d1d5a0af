"""I/O lives here: issue sources, workspaces, agents, executors, GitHub and notifiers."""
