"""`python -m agora_auth`: serve on `PORT`, as Cloud Run does."""

from agora_auth.app import create_app
from agora_auth.settings import AuthSettings
from agora_common.serve import serve

if __name__ == "__main__":
    serve(create_app, AuthSettings())
