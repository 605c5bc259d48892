"""`python -m agora_quantflow`: serve on `PORT` with the AGORA_AGENT_* settings."""

from agora_quantflow.agent import agent

if __name__ == "__main__":
    agent.serve()
