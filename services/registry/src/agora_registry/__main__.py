"""`python -m agora_registry`: serve on `PORT`, as Cloud Run does."""

from agora_common.serve import serve
from agora_registry.app import create_app
from agora_registry.settings import RegistrySettings

if __name__ == "__main__":
    serve(create_app, RegistrySettings())
