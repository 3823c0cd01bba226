"""How a place name is typed: the normalised name and its pinyin (拼音) spellings.

A dispatcher types a name as it sounds: the initials (``wsx`` for 五四巷) or the
full spelling (``wusixiang``). A name's most likely reading comes from pypinyin's phrase
dictionary (长江 is chang, not zhang). A polyphone the dictionary cannot settle (曾家寨:
ceng or zeng) also gets its other readings, one character at a time, so either spelling
finds it; each name keeps at most ``MAX_READINGS``, the most likely first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

MAX_READINGS = 12
_SPACE = re.compile(r"\s+")
_HAN_CHARS = "\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_HAN = re.compile(f"[{_HAN_CHARS}]")
_RUNS = re.compile(f"[{_HAN_CHARS}]+|[^{_HAN_CHARS}]+")
_NOT_LATIN = re.compile(r"[^a-z0-9]")


def normalise(text: str) -> str:
    """Compare form of a name or a query: full-width letters and digits made plain (an IME
    types ３号楼 as readily as 3号楼), lower case, no spaces."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).lower()


def latin(text: str) -> str:
    """A query as pinyin: plain letters and digits only (``wu si xiang`` → ``wusixiang``)."""
    return _NOT_LATIN.sub("", normalise(text))


@dataclass(frozen=True)
class Spelling:
    """The ways to type one name, each space-separated, the most likely reading first."""

    key: str
    initials: str
    spell: str


@lru_cache(maxsize=65536)
def spelling(name: str) -> Spelling:
    """The name's compare form, pinyin initials and full spellings (cached: the demo city's
    4,942 compounds share 420 names)."""
    # Imported here: loading pypinyin's dictionaries takes a third of a second, which every
    # start of the CLI and the app would otherwise pay.
    from pypinyin import Style, pinyin

    key = normalise(name)
    # Each sound of the name: its readings (most likely first) and its initial per reading.
    sounds: list[tuple[list[str], list[str]]] = []
    for run in _RUNS.findall(key):
        if _HAN.match(run):
            for readings in pinyin(run, style=Style.NORMAL, heteronym=True):
                spelled = _unique(latin(r) for r in readings if latin(r))
                sounds.append((spelled, [r[0] for r in spelled]))
        elif plain := latin(run):
            # Digits or Latin letters stay whole: 12号楼 → 12hl.
            sounds.append(([plain], [plain]))
    sounds = [s for s in sounds if s[0]]
    first = [0] * len(sounds)
    variants = [first]
    for i, (readings, _) in enumerate(sounds):
        variants += [[*first[:i], j, *first[i + 1 :]] for j in range(1, len(readings))]
    initials = _unique("".join(sounds[i][1][j] for i, j in enumerate(v)) for v in variants)
    spells = _unique("".join(sounds[i][0][j] for i, j in enumerate(v)) for v in variants)
    return Spelling(
        key=key,
        initials=" ".join(initials[:MAX_READINGS]),
        spell=" ".join(spells[:MAX_READINGS]),
    )


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
