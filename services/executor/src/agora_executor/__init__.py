"""Agora executor service: Routes tool executions to each agent's own container."""
