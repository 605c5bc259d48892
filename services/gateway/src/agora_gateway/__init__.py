"""Agora gateway service: Public entry: Firebase sign-in, rate limits, /api/v1 proxy."""
