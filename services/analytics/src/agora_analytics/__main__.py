"""`python -m agora_analytics`: serve on `PORT`, as Cloud Run does."""

from agora_analytics.app import create_app
from agora_analytics.settings import AnalyticsSettings
from agora_common.serve import serve

if __name__ == "__main__":
    serve(create_app, AnalyticsSettings())
