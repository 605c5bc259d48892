"""The Genesis computations: statistics, keywords and an extractive summary."""

from __future__ import annotations

import math
from collections import Counter

from agora_genesis.models import (
    Keyword,
    KeywordsInput,
    KeywordsResult,
    ScoredSentence,
    StatisticsInput,
    StatisticsResult,
    SummaryInput,
    SummaryResult,
)
from agora_genesis.text import content_words, paragraphs, sentences, syllables, words


def statistics(data: StatisticsInput) -> StatisticsResult:
    """Counts, averages, reading time, Flesch reading ease and Flesch-Kincaid grade."""
    text = data.text
    all_words = words(text)
    n_words = len(all_words)
    n_sentences = max(1, len(sentences(text)))
    n_syllables = sum(syllables(w) for w in all_words)
    words_per_sentence = n_words / n_sentences
    syllables_per_word = n_syllables / n_words
    return StatisticsResult(
        characters=len(text),
        characters_excluding_spaces=sum(1 for ch in text if not ch.isspace()),
        words=n_words,
        sentences=n_sentences,
        paragraphs=len(paragraphs(text)),
        syllables=n_syllables,
        average_word_length=round(sum(len(w) for w in all_words) / n_words, 2),
        average_sentence_length=round(words_per_sentence, 2),
        average_syllables_per_word=round(syllables_per_word, 2),
        reading_time_seconds=round(n_words / data.words_per_minute * 60, 1),
        flesch_reading_ease=round(
            206.835 - 1.015 * words_per_sentence - 84.6 * syllables_per_word, 2
        ),
        flesch_kincaid_grade=round(
            0.39 * words_per_sentence + 11.8 * syllables_per_word - 15.59, 2
        ),
    )


def _ranked(terms: list[str]) -> list[tuple[str, int]]:
    """Most frequent first; ties by first appearance, so the answer is deterministic."""
    counts = Counter(terms)
    first = {term: i for i, term in reversed(list(enumerate(terms)))}
    return sorted(counts.items(), key=lambda item: (-item[1], first[item[0]]))


def keywords(data: KeywordsInput) -> KeywordsResult:
    """Term frequency over the words that are not stop words."""
    terms = content_words(data.text, data.min_length)
    ranked = _ranked(terms)
    return KeywordsResult(
        keywords=[
            Keyword(term=term, count=count, frequency=round(count / len(terms), 4))
            for term, count in ranked[: data.top_k]
        ],
        total_terms=len(terms),
        unique_terms=len(ranked),
    )


def summary(data: SummaryInput) -> SummaryResult:
    """The top-scoring sentences in their original order.

    A sentence scores the sum of its content words' frequencies (relative to the most frequent
    word) divided by the square root of its length: long sentences gain, but not linearly.
    """
    found = sentences(data.text)
    counts = Counter(content_words(data.text))
    top = max(counts.values(), default=1)
    scores: list[float] = []
    for sentence in found:
        terms = content_words(sentence)
        total = sum(counts[t] / top for t in terms)
        scores.append(round(total / math.sqrt(len(terms)), 4) if terms else 0.0)
    best = sorted(range(len(found)), key=lambda i: (-scores[i], i))[: data.max_sentences]
    chosen = [ScoredSentence(index=i, text=found[i], score=scores[i]) for i in sorted(best)]
    return SummaryResult(
        summary=" ".join(s.text for s in chosen),
        sentences=chosen,
        total_sentences=len(found),
    )
