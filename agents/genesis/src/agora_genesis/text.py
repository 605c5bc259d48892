"""Words, sentences, paragraphs and syllables: the pieces every Genesis tool is built from."""

from __future__ import annotations

import re

from agora_genesis.stopwords import STOP_WORDS

# A word: letters or digits, with inner apostrophes or hyphens ("don't", "well-known").
_WORD = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# A sentence ends at . ! ? or an ellipsis, closing quotes and brackets included, before a space.
_SENTENCE_END = re.compile(r"(?:[.!?…]+)[\"'\u201d\u2019)\]]*(?=\s|$)")
_LAST_TOKEN = re.compile(r"(\S+?)\.[\"'\u201d\u2019)\]]*$")
_VOWEL_GROUPS = re.compile(r"[aeiouyàáâãäåæèéêëìíîïòóôõöøœùúûüýÿ]+")
_ABBREVIATION_LIST = (
    "mr mrs ms dr prof sr jr st vs etc e.g i.e inc ltd fig approx dept est mt jan feb mar "
    "apr jun jul aug sep sept oct nov dec"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_LIST.split())


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def content_words(text: str, min_length: int = 1) -> list[str]:
    """Lower-cased words with a letter in them, stop words left out."""
    return [
        word
        for word in (w.lower().replace("\u2019", "'") for w in words(text))
        if len(word) >= min_length and word not in STOP_WORDS and any(ch.isalpha() for ch in word)
    ]


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text) if words(p)]


def _ends_in_abbreviation(chunk: str) -> bool:
    """True after "Dr.", "e.g." or an initial such as "J.": those do not end a sentence."""
    match = _LAST_TOKEN.search(chunk)
    if match is None:
        return False
    token = match.group(1).lstrip("(\"'\u201c\u2018")
    return token.lower() in _ABBREVIATIONS or (len(token) == 1 and token.isupper())


def sentences(text: str) -> list[str]:
    """Sentences in order; a paragraph break always ends one, even without punctuation."""
    found: list[str] = []
    for paragraph in paragraphs(text):
        start = 0
        for match in _SENTENCE_END.finditer(paragraph):
            chunk = paragraph[start : match.end()]
            if match.group().startswith(".") and _ends_in_abbreviation(chunk):
                continue
            if words(chunk):
                found.append(" ".join(chunk.split()))
            start = match.end()
        tail = paragraph[start:]
        if words(tail):
            found.append(" ".join(tail.split()))
    return found


def syllables(word: str) -> int:
    """English syllables by vowel groups, less a silent final e; every word has at least one."""
    letters = "".join(ch for ch in word.lower() if ch.isalpha())
    count = len(_VOWEL_GROUPS.findall(letters))
    if count > 1 and letters.endswith("e") and not letters.endswith(("le", "ee", "ye")):
        count -= 1
    return max(1, count)
