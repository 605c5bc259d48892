"""Users' provider API keys, stored with envelope encryption (see envelope.py)."""
