"""Inputs and results of the Genesis tools."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from agora_genesis.text import words

MAX_TEXT_CHARS = 100_000


def _has_words(text: str) -> str:
    if not words(text):
        raise ValueError("must contain at least one word")
    return text


Text = Annotated[
    str,
    Field(
        min_length=1, max_length=MAX_TEXT_CHARS, description="The text, up to 100,000 characters"
    ),
    AfterValidator(_has_words),
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StatisticsInput(_Input):
    text: Text
    words_per_minute: Annotated[
        int, Field(ge=50, le=1000, description="Reading speed for the reading time")
    ] = 238


class StatisticsResult(BaseModel):
    characters: int
    characters_excluding_spaces: int
    words: int
    sentences: int
    paragraphs: int
    syllables: int
    average_word_length: float
    average_sentence_length: float
    average_syllables_per_word: float
    reading_time_seconds: float
    flesch_reading_ease: float
    flesch_kincaid_grade: float


class KeywordsInput(_Input):
    text: Text
    top_k: Annotated[int, Field(ge=1, le=50, description="How many keywords")] = 10
    min_length: Annotated[
        int, Field(ge=1, le=20, description="Shortest keyword, in characters")
    ] = 3


class Keyword(BaseModel):
    term: str
    count: int
    frequency: float


class KeywordsResult(BaseModel):
    keywords: list[Keyword]
    total_terms: int
    unique_terms: int


class SummaryInput(_Input):
    text: Text
    max_sentences: Annotated[int, Field(ge=1, le=20, description="Sentences in the summary")] = 3


class ScoredSentence(BaseModel):
    index: int
    text: str
    score: float


class SummaryResult(BaseModel):
    summary: str
    sentences: list[ScoredSentence]
    total_sentences: int
