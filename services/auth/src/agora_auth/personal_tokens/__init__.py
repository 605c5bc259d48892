"""Personal API tokens: a user's own long-lived bearer tokens for scripts and tools."""
