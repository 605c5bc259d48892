"""Agora shared library: settings, errors, logging, tracing, clients, IAM, models."""
