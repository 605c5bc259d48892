"""`python -m agora_genesis`: serve on `PORT` with the AGORA_AGENT_* settings."""

from agora_genesis.agent import agent

if __name__ == "__main__":
    agent.serve()
