"""HTTP routes of the registry: public agent routes (via the gateway), search, internal status."""
