"""`python -m agora_vetting`: serve on `PORT`, as Cloud Run does."""

from agora_common.serve import serve
from agora_vetting.app import create_app
from agora_vetting.settings import VettingSettings

if __name__ == "__main__":
    serve(create_app, VettingSettings())
