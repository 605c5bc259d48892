"""Agora vetting service: The review queue, security scans, approve/reject, deploy."""
