"""Which sentences are claims: worth a vector, a comparison and a place among the judge's
candidates (five words or more, not a question; pseudocode lines that state a value)."""

from __future__ import annotations

import hashlib
import re

LINK_SYNTAX = re.compile(r"!?\[\[[^\]]*\]\]|!?\[[^\]]*\]\([^)]*\)")


# Pseudocode lines that open a definition, loop or branch state no value of their own: a claim
# among them ("IF retries > 5") carries a number.
_CODE_OPENERS = frozenset(
    "END КОНЕЦ ELSE ИНАЧЕ FUNCTION PROCEDURE ALGORITHM FUNC DEF ФУНКЦИЯ ПРОЦЕДУРА АЛГОРИТМ "
    "FOR WHILE IF REPEAT LOOP UNTIL ДЛЯ ПОКА ЕСЛИ ПОВТОРЯТЬ ЦИКЛ".split()
)


def sentence_hash(kind: str, text: str) -> str | None:
    """Hash of a claim worth embedding and comparing, else None: a sentence of five words or more
    that is not a question, or a pseudocode line of two words or more that is not a bare
    definition, loop or branch header."""
    code = text.split("//", 1)[0] if kind == "code" else LINK_SYNTAX.sub(" ", text)
    words = code.split()
    if len(words) < (2 if kind == "code" else 5):
        return None
    if kind == "code":
        if words[0].upper() in _CODE_OPENERS and not re.search(r"\d", code):
            return None
    elif code.rstrip().endswith("?"):
        return None  # a question asks; it cannot contradict
    return hashlib.blake2b(" ".join(text.split()).encode("utf-8"), digest_size=16).hexdigest()
