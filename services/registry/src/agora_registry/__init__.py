"""Agora registry service: Agents: register, search, manifests, status."""
