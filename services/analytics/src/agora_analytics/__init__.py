"""Agora analytics service: Execution logs, metrics and costs."""
