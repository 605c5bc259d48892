"""`python -m agora_tool`: serve on `PORT`, as Cloud Run does."""

from agora_common.serve import serve
from agora_tool.app import create_app
from agora_tool.settings import ToolSettings

if __name__ == "__main__":
    serve(create_app, ToolSettings())
