"""Finding datasets by text, keyword, extent and owner, ranked by relevance.

Arabic text is matched the way people type it: without harakat, with the alef forms,
alef maqsura / ya and ta marbuta / ha folded together, tatweel dropped, Arabic-Indic
digits as ASCII, and the article "ال" optional. Latin text is case- and accent-insensitive.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..errors import InvalidParameter
from .access import ENTITY_ID
from .collection import CollectionInfo
from .query import BBox

_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        "ـ": None,  # tatweel
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)
_WORD = re.compile(r"\w+")
#: Field weights: a title match says more than one in the description.
WEIGHTS = {"id": 3.0, "title": 3.0, "title_ar": 3.0, "keywords": 2.0, "description": 1.0}
MAX_TERMS = 20


def fold(text: str) -> str:
    """Lower case, no accents or harakat, Arabic letter variants unified."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped).translate(_FOLD)


def tokens(text: str) -> list[str]:
    """Folded words, each also without the Arabic article when it has one."""
    out = []
    for word in _WORD.findall(fold(text)):
        out.append(word)
        if word.startswith("ال") and len(word) > 3:
            out.append(word[2:])
    return out


@dataclass(frozen=True)
class DatasetSearch:
    terms: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    bbox: BBox | None = None
    owner: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.terms or self.keywords or self.bbox or self.owner)

    def score(self, info: CollectionInfo, owner: str | None) -> float | None:
        """Relevance of one dataset, or None when it does not match every criterion."""
        if self.owner is not None and owner != self.owner:
            return None
        if self.keywords:
            have = {fold(k).strip() for k in info.keywords}
            if not all(k in have for k in self.keywords):
                return None
        if self.bbox is not None and not _overlaps(self.bbox, info.bbox):
            return None
        fields = {
            "id": tokens(info.id.replace("_", " ").replace("-", " ")),
            "title": tokens(info.title),
            "title_ar": tokens(info.title_ar or ""),
            "keywords": [t for k in info.keywords for t in tokens(k)],
            "description": tokens(info.description),
        }
        total = 0.0
        for term in self.terms:
            best = 0.0
            for name, words in fields.items():
                if term in words:
                    best = max(best, WEIGHTS[name])
                elif any(w.startswith(term) for w in words):
                    best = max(best, WEIGHTS[name] / 2)
            if best == 0.0:
                return None  # every word must be found somewhere
            total += best
        return total + 1.0


def _overlaps(box: BBox, extent: tuple[float, float, float, float] | None) -> bool:
    if extent is None:
        return False
    ex0, ey0, ex1, ey1 = extent
    return any(
        minx <= ex1 and maxx >= ex0 and miny <= ey1 and maxy >= ey0
        for minx, miny, maxx, maxy in box.parts()
    )


def parse_search(
    q: str | None, keywords: str | None, bbox: BBox | None, owner: str | None
) -> DatasetSearch:
    terms: list[str] = []
    q, keywords = (None if v is not None and not v.strip() else v for v in (q, keywords))
    if q is not None:  # an empty field of a search form means "anything"
        terms = list(dict.fromkeys(t for t in _WORD.findall(fold(q))))
        if not terms:
            raise InvalidParameter("q", "give at least one word to search for")
        if len(terms) > MAX_TERMS:
            raise InvalidParameter("q", f"at most {MAX_TERMS} words, got {len(terms)}")
        terms = [t[2:] if t.startswith("ال") and len(t) > 3 else t for t in terms]
    wanted: list[str] = []
    if keywords is not None:
        wanted = [fold(k).strip() for k in keywords.split(",") if k.strip()]
        if not wanted:
            raise InvalidParameter("keywords", "give at least one keyword")
    if owner is not None and not ENTITY_ID.match(owner.strip()):
        shown = owner if len(owner) <= 40 else owner[:40] + "..."
        raise InvalidParameter(
            "owner", f"{shown!r} is not an entity id (lower-case letters, digits, '-', '_')"
        )
    return DatasetSearch(tuple(terms), tuple(wanted), bbox, owner.strip() if owner else None)


def rank(search: DatasetSearch, candidates: list[tuple[CollectionInfo, str | None]]) -> list[int]:
    """Indexes of the matching candidates, best first (ties keep the listing order)."""
    scored = [
        (score, i)
        for i, (info, owner) in enumerate(candidates)
        if (score := search.score(info, owner)) is not None
    ]
    return [i for _score, i in sorted(scored, key=lambda pair: (-pair[0], pair[1]))]
