"""Agora tool service: The tool catalog, versions and the Tool Factory."""
