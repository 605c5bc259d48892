"""Agora auth service: Agent tokens, encrypted user API keys, the admin role."""
