"""Genesis: counts and readability, keywords, summaries, and the agent running as a process."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agora_common.models import AgentCard
from agora_genesis.agent import agent
from agora_genesis.analysis import keywords, statistics, summary
from agora_genesis.models import MAX_TEXT_CHARS, KeywordsInput, StatisticsInput, SummaryInput
from agora_genesis.text import sentences, syllables
from tests.agents.process import SECRET, run_agent

SOLAR = (
    "Solar power is growing fast. Solar panels convert sunlight into electricity. "
    "The weather was nice yesterday. Many countries now install solar panels on roofs to "
    "produce electricity. Cats sleep a lot."
)


def test_statistics_of_a_simple_sentence() -> None:
    # 6 words, 1 sentence, 6 syllables: 206.835 - 1.015 * 6 - 84.6 * 1 = 116.145.
    result = statistics(StatisticsInput(text="The cat sat on the mat."))
    assert (result.words, result.sentences, result.syllables, result.paragraphs) == (6, 1, 6, 1)
    assert result.characters == 23 and result.characters_excluding_spaces == 18
    assert result.average_word_length == 2.83
    assert result.average_sentence_length == 6.0
    assert result.flesch_reading_ease == pytest.approx(116.145, abs=0.01)
    assert result.flesch_kincaid_grade == pytest.approx(0.39 * 6 + 11.8 - 15.59, abs=0.01)


def test_statistics_reading_time_and_paragraphs() -> None:
    text = "\n\n".join(["word " * 119 + "end."] * 2)  # 240 words in two paragraphs
    result = statistics(StatisticsInput(text=text, words_per_minute=240))
    assert (result.words, result.paragraphs, result.sentences) == (240, 2, 2)
    assert result.reading_time_seconds == 60.0


def test_harder_text_reads_harder() -> None:
    easy = statistics(StatisticsInput(text="The dog ran. The cat sat. We had fun."))
    hard = statistics(
        StatisticsInput(
            text="Institutional considerations necessitate comprehensive organizational "
            "restructuring notwithstanding considerable implementation difficulties."
        )
    )
    assert easy.flesch_reading_ease > 90 > 0 > hard.flesch_reading_ease


@pytest.mark.parametrize(
    ("word", "count"),
    [
        ("cat", 1),
        ("the", 1),
        ("make", 1),
        ("table", 2),
        ("reading", 2),
        ("beautiful", 3),
        ("organization", 5),
        ("rhythm", 1),
        ("42", 1),
    ],
)
def test_syllables(word: str, count: int) -> None:
    assert syllables(word) == count


def test_sentences_respect_abbreviations_initials_and_paragraphs() -> None:
    text = (
        'Dr. Smith met J. Doe in Washington. Was it fun? "Yes," he said!\n\n'
        "A heading without a stop\n\nPrices rose, e.g. bread and milk… Then they fell."
    )
    assert sentences(text) == [
        "Dr. Smith met J. Doe in Washington.",
        "Was it fun?",
        '"Yes," he said!',
        "A heading without a stop",
        "Prices rose, e.g. bread and milk…",
        "Then they fell.",
    ]


def test_keywords_by_term_frequency_without_stop_words() -> None:
    result = keywords(KeywordsInput(text=SOLAR, top_k=3))
    assert [(k.term, k.count) for k in result.keywords] == [
        ("solar", 3),
        ("panels", 2),
        ("electricity", 2),
    ]
    assert result.keywords[0].frequency == pytest.approx(3 / result.total_terms, abs=1e-4)
    assert result.unique_terms < result.total_terms


def test_keywords_min_length_and_apostrophes() -> None:
    result = keywords(KeywordsInput(text="AI and ML: AI isn't ML. Don't panic, AI.", min_length=2))
    assert [(k.term, k.count) for k in result.keywords][:2] == [("ai", 3), ("ml", 2)]
    assert "isn't" not in [k.term for k in result.keywords]


def test_summary_keeps_the_best_sentences_in_their_order() -> None:
    result = summary(SummaryInput(text=SOLAR, max_sentences=2))
    assert [s.index for s in result.sentences] == [1, 3]
    assert result.summary == (
        "Solar panels convert sunlight into electricity. "
        "Many countries now install solar panels on roofs to produce electricity."
    )
    assert result.total_sentences == 5


def test_a_short_text_is_its_own_summary() -> None:
    result = summary(SummaryInput(text="One sentence only.", max_sentences=3))
    assert result.summary == "One sentence only."


@pytest.mark.parametrize(
    "fields",
    [
        {"text": ""},
        {"text": "  ... !!! "},
        {"text": "x" * (MAX_TEXT_CHARS + 1)},
        {"text": "ok", "max_sentences": 0},
        {"text": "ok", "max_sentences": 21},
    ],
)
def test_summary_input_rules(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SummaryInput.model_validate(fields)


def test_the_card_is_valid() -> None:
    card = AgentCard.model_validate(agent.card("https://genesis.example.com"))
    assert [t.name for t in card.tools] == ["text_statistics", "extract_keywords", "summarize"]


def test_genesis_serves_signed_calls_as_a_process(tmp_path: Path) -> None:
    with run_agent("agora_genesis", tmp_path / "genesis.log") as running:
        answer = running.call("text_statistics", {"text": "The cat sat on the mat."})
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"]["flesch_reading_ease"] == pytest.approx(116.145, abs=0.01)

        unsigned = running.call("summarize", {"text": SOLAR}, signed=False)
        assert unsigned.status_code == 401
        assert unsigned.json()["error"]["code"] == "MISSING_SIGNATURE"
    assert SECRET not in running.log.read_text()
