"""`python -m agora_executor`: serve on `PORT`, as Cloud Run does."""

from agora_common.serve import serve
from agora_executor.app import create_app
from agora_executor.settings import ExecutorSettings

if __name__ == "__main__":
    serve(create_app, ExecutorSettings())
