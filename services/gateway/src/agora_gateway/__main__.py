"""`python -m agora_gateway`: serve on `PORT`, as Cloud Run does."""

from agora_common.serve import serve
from agora_gateway.app import create_app
from agora_gateway.settings import GatewaySettings

if __name__ == "__main__":
    serve(create_app, GatewaySettings())
