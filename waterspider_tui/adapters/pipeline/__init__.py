"""Steps after the agent: what runs in the session's worktree once the agent has ended."""
