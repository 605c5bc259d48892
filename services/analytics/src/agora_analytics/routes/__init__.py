"""HTTP routes of analytics: ingestion (internal), metrics and costs, the dashboard, alerts."""
