"""The Genesis agent: its card fields and its three tools."""

from __future__ import annotations

from agora_agent_sdk import Agent
from agora_genesis import analysis
from agora_genesis.models import (
    KeywordsInput,
    KeywordsResult,
    StatisticsInput,
    StatisticsResult,
    SummaryInput,
    SummaryResult,
)

agent = Agent(
    name="Genesis",
    description="General text tools: word and sentence statistics with readability, keyword "
    "extraction and extractive summaries.",
    version="1.0.0",
    tags=["text", "nlp", "summarization"],
)


@agent.tool(
    description="Word, sentence and paragraph counts, average lengths, reading time, Flesch "
    "reading ease and Flesch-Kincaid grade of an English text"
)
def text_statistics(payload: StatisticsInput) -> StatisticsResult:
    return analysis.statistics(payload)


@agent.tool(description="The top-k keywords of a text by term frequency, stop words left out")
def extract_keywords(payload: KeywordsInput) -> KeywordsResult:
    return analysis.keywords(payload)


@agent.tool(
    description="An extractive summary: the highest-scoring sentences, in their original order"
)
def summarize(payload: SummaryInput) -> SummaryResult:
    return analysis.summary(payload)
