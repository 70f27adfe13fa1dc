"""Pseudocode symbols: FUNCTION/PROCEDURE/ALGORITHM definitions and the calls between them.

Keywords are case-insensitive and come in English and Russian. ALL-CAPS names are
primitives by convention (`NOW()`, `SLEEP()`, `ХЕШ()`), and a configurable list of
lower-case built-ins is never reported; both are decided by the checks, not here, so
the parse stays a pure function of the text.
"""

from __future__ import annotations

import re

from ponder.index.notes import Position, PseudoCall, PseudoFunction, Range
from ponder.index.parsing.positions import cp_to_utf16, utf16_len

DEF_KEYWORDS = ("FUNCTION", "PROCEDURE", "ALGORITHM", "FUNC", "DEF", "ФУНКЦИЯ", "ПРОЦЕДУРА", "АЛГОРИТМ")

_DEF = re.compile(
    r"^\s*(?P<kw>" + "|".join(DEF_KEYWORDS) + r")\s+(?P<name>[^\W\d]\w*)\s*\((?P<params>[^)]*)\)?",
    re.IGNORECASE,
)
_END = re.compile(r"^\s*(?:END|КОНЕЦ)(?:[\s_]+(?P<what>[^\W\d]\w*))?\s*(?://.*)?$", re.IGNORECASE)
# Openers of nested blocks that a bare END may close, so a bare END inside them does not end the function.
_OPENER = re.compile(
    r"^\s*(IF|WHILE|FOR|REPEAT|LOOP|SWITCH|CASE|TRY|ЕСЛИ|ПОКА|ДЛЯ|ЦИКЛ|ПОВТОРЯТЬ|ВЫБОР)\b", re.IGNORECASE
)
_ONE_LINE_IF = re.compile(r"\bTHEN\b.*\S", re.IGNORECASE)
_CALL = re.compile(r"(?<![\w.$])([^\W\d]\w*)\s*\(")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")

KEYWORDS = frozenset(
    k.casefold()
    for k in """
    if then else elif elseif end while do for each in to from step repeat until loop return returns
    and or not xor mod div function procedure algorithm func def call break continue switch case
    of is new let var const set true false null nil none yield await async try catch finally raise
    throw with print assert
    если то иначе конец пока для каждого каждый в из до шаг повторять цикл вернуть возврат и или не
    функция процедура алгоритм вызвать прервать продолжить выбор истина ложь пусто
    """.split()
)


def is_primitive(name: str) -> bool:
    """ALL-CAPS names (with at least two letters) are primitives: NOW, SLEEP, BLAKE3_KEYED, ХЕШ."""
    letters = [c for c in name if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _strip_comment(line: str) -> str:
    """Blank out string literals and `//` comments, keeping columns."""
    line = _STRING.sub(lambda m: " " * len(m.group(0)), line)
    cut = line.find("//")
    if cut >= 0:
        line = line[:cut] + " " * (len(line) - cut)
    stripped = line.lstrip()
    if stripped.startswith("#") or stripped.startswith("--"):
        return " " * len(line)
    return line


def parse_pseudocode(
    lines: list[str], start: int, end: int, block: int
) -> tuple[list[PseudoFunction], list[PseudoCall]]:
    """Definitions and calls in lines[start:end] (one fenced block or a whole .pseudo file)."""
    functions: list[PseudoFunction] = []
    calls: list[PseudoCall] = []
    open_def: tuple[re.Match, int] | None = None
    depth = 0

    def close(at_line: int) -> None:
        nonlocal open_def
        if open_def is None:
            return
        m, ln = open_def
        line = lines[ln]
        name = m.group("name")
        params = tuple(p.strip() for p in (m.group("params") or "").split(",") if p.strip())
        functions.append(
            PseudoFunction(
                name=name,
                kind=m.group("kw").upper(),
                params=params,
                signature=f"{name}({', '.join(params)})",
                range=Range(
                    Position(ln, cp_to_utf16(line, len(line) - len(line.lstrip()))),
                    Position(at_line, utf16_len(lines[at_line])),
                ),
                name_range=Range.of(ln, cp_to_utf16(line, m.start("name")), ln, cp_to_utf16(line, m.end("name"))),
                block=block,
            )
        )
        open_def = None

    last_code_line = start
    for ln in range(start, min(end, len(lines))):
        line = lines[ln]
        code = _strip_comment(line)
        if not code.strip():
            continue
        d = _DEF.match(code)
        if d:
            close(last_code_line)
            open_def, depth = (d, ln), 0
            skip_until = d.end("name")
        else:
            skip_until = -1
            e = _END.match(code)
            if e and open_def is not None:
                what = (e.group("what") or "").upper()
                if what in (open_def[0].group("kw").upper(), open_def[0].group("name").upper()) or (
                    not what and depth == 0
                ):
                    last_code_line = ln
                    close(ln)
                    continue
                if not what or what in {
                    "IF",
                    "WHILE",
                    "FOR",
                    "REPEAT",
                    "LOOP",
                    "SWITCH",
                    "CASE",
                    "TRY",
                    "ЕСЛИ",
                    "ПОКА",
                    "ДЛЯ",
                    "ЦИКЛ",
                }:
                    depth = max(0, depth - 1)
            elif _OPENER.match(code) and not (
                code.lstrip().upper().startswith("IF") and _ONE_LINE_IF.search(code) and "END" in code.upper()
            ):
                depth += 1
        for m in _CALL.finditer(code):
            if m.start(1) < skip_until:
                continue
            name = m.group(1)
            if name.casefold() in KEYWORDS:
                continue
            calls.append(
                PseudoCall(name, Range.of(ln, cp_to_utf16(line, m.start(1)), ln, cp_to_utf16(line, m.end(1))), block)
            )
        last_code_line = ln
    close(last_code_line)
    return functions, calls
