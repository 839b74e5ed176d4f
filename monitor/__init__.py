"""Time and people: the CLI, the scheduler daemon, diffs, notifications and feeds."""
