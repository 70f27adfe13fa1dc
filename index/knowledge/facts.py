"""Facts: what a sentence claims, in a form that can be compared across notes.

A `Fact` is extracted from one sentence (prose, list item, table row, `key: value`
line, front matter entry or pseudocode constant). It carries the subject as a set of
stems (and an identifier when the sentence is about a named setting or constant), at
most one kind of claim, and the qualifiers that scope it:

- quantity: a number with a unit normalised by pint (90 s and 1 min compare), a role
  (value, max, min, range, period, delay) read from the words before it;
- prohibition: "never X", "MUST NOT X", "никогда не X" with the verb X;
- order: "A first, then B", "сначала A, затем B" as ordered clause stems;
- rule: an RFC 2119 requirement (MUST/SHALL/SHOULD [NOT]/MAY, uppercase only).

Qualifiers: environment (dev/staging/prod), status (superseded, rejected, proposed,
hypothetical, question) from the sentence and the note's front matter, version/time
("since v0.3", "before v2"). Everything works on English and Russian text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache, lru_cache

from ponder.index.notes import Note, Range
from ponder.index.parsing.stems import content_stems, ident_parts, stem

# --- units --------------------------------------------------------------------------------

# unit spelling -> pint unit expression; the dimension and factor come from pint.
_UNITS: dict[str, str] = {}
for names, pint_unit in [
    ("ms msec millisecond milliseconds мс миллисекунд миллисекунды миллисекунда", "millisecond"),
    ("s sec secs second seconds с сек секунд секунды секунда секунду", "second"),
    ("m min mins minute minutes мин минут минуты минута минуту", "minute"),
    ("h hr hrs hour hours ч час часа часов", "hour"),
    ("d day days дн день дня дней сутки суток", "day"),
    ("week weeks wk нед недель недели неделя неделю", "week"),
    ("month months мес месяц месяца месяцев", "month"),
    ("y yr yrs year years год года лет", "year"),
    ("b byte bytes б байт байта байтов", "byte"),
    ("kb кб", "kilobyte"),
    ("kib", "kibibyte"),
    ("mb мб", "megabyte"),
    ("mib миб", "mebibyte"),
    ("gb гб", "gigabyte"),
    ("gib гиб", "gibibyte"),
    ("tb тб", "terabyte"),
    ("tib", "tebibyte"),
    ("kbit kbps кбит", "kilobit"),
    ("mbit mbps мбит", "megabit"),
    ("gbit gbps гбит", "gigabit"),
    ("% percent процент процента процентов", "percent"),
    ("w watt watts вт ватт ватта", "watt"),
    ("kw kilowatt kilowatts квт киловатт киловатта", "kilowatt"),
    ("kwh квтч квт·ч", "kilowatt_hour"),
    # temperatures compare as plain degrees (no °F here: an offset unit needs more than a factor)
    ("°c °с ℃ градус градуса градусов", "kelvin"),
]:
    for n in names.split():
        _UNITS[n] = pint_unit
_COUNT_WORDS = {
    "times",
    "time",
    "раз",
    "раза",
    "attempts",
    "attempt",
    "retries",
    "tries",
    "попыток",
    "попытки",
    "повторов",
}
# A bare number named like this counts repetitions, so it compares with "5 times".
_REPEAT_STEMS = {"retri", "attempt", "tri", "repeat", "повтор", "попытк", "рестарт", "restart"}

_UNIT_STEMS = {stem(u) for u in _UNITS} | {"tim", "time", "раз"}

_NUM = r"(?<![\w.])(\d+(?:[.,]\d+)?)"
_UNIT_RX = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_QUANTITY = re.compile(
    _NUM
    + r"(?:\s*(?:-|–|—|to|до|and|и)\s*(\d+(?:[.,]\d+)?))?\s*("
    + _UNIT_RX
    + r")(?:\s*/\s*(s|sec|second|с|сек))?(?![\w])",
    re.IGNORECASE,
)


@cache
def _unit_info(unit: str, rate: bool) -> tuple[str, float]:
    """(dimension name, factor to base units) for a unit spelling, via pint."""
    ureg = _registry()
    expr = _UNITS[unit.lower()] + (" / second" if rate else "")
    q = ureg.Quantity(1, expr).to_base_units()
    return str(q.dimensionality), float(q.magnitude)


@lru_cache(maxsize=1)
def _registry():
    from pint import UnitRegistry

    return UnitRegistry()


def load_units() -> None:
    """Load the unit registry now (about half a second), not when the first opened note states a
    value: the server calls it once the index is up."""
    for unit in _UNITS:
        _unit_info(unit, False)


# --- roles and qualifiers -----------------------------------------------------------------

_ROLE_BEFORE = [
    (
        "max",
        re.compile(
            r"(at most|up to|no more than|not more than|maximum( of)?|max\.?|limited "
            r"to|cap(ped)? (at|of)|не более|не больше|максимум|до)\s*$",
            re.I,
        ),
    ),
    (
        "min",
        re.compile(
            r"(at least|no less than|not less than|minimum( of)?|min\.?|не менее|не меньше|минимум|от)\s*$", re.I
        ),
    ),
    ("period", re.compile(r"(every|each|once every|каждые|каждый|каждую|раз в)\s*$", re.I)),
    (
        "delay",
        re.compile(
            r"(after|within|for|timeout( of)?|time(s)? out after|expires? after|через|после|в течение|спустя)\s*$", re.I
        ),
    ),
    ("approx", re.compile(r"(about|around|roughly|approximately|~|≈|около|примерно|порядка)\s*$", re.I)),
]
_IDENT_ROLE = [
    ("max", {"max", "maximum", "limit", "cap", "макс", "максимум", "лимит", "предел"}),
    ("min", {"min", "minimum", "мин", "минимум"}),
    ("period", {"interval", "period", "every", "frequency", "интервал", "период"}),
    ("delay", {"timeout", "ttl", "delay", "expiry", "after", "таймаут", "задержка"}),
]

ENVIRONMENTS = {
    "dev": {"dev", "development", "devel", "local", "разработка", "разработки", "дев"},
    "staging": {"staging", "stage", "стейджинг"},
    "test": {"test", "testing", "ci", "тест", "тестовый", "тестовом"},
    "prod": {"prod", "production", "live", "прод", "продакшн", "продакшен", "боевой", "боевом"},
}
_STATUS_WORDS = {
    "rejected": re.compile(
        r"\b(rejected|declined|dropped the idea|we decided against|отклонен[оа]?|отклонили|отказались)\b", re.I
    ),
    "superseded": re.compile(
        r"\b(superseded|deprecated|obsolete|no longer (valid|true|used)|устарел[оа]?|заменен[оа]?|больше не)\b", re.I
    ),
    "hypothetical": re.compile(
        r"\b(if we ever|we could|could we|might|maybe|perhaps|we considered|was "
        r"considered|proposal|proposed|what if|would be nice|nice to "
        r"have|someday|идея|если бы|возможно|может "
        r"быть|предлагаю|рассматривали|когда-нибудь)\b",
        re.I,
    ),
}
_QUESTION_START = re.compile(
    r"^\W*(could|should|would|can|do|does|is|are|what|why|how|when|нужно ли|можно "
    r"ли|стоит ли|может|зачем|почему|как|когда)\b",
    re.I,
)
_VERSION = re.compile(
    r"\b(since|before|until|after|from|as of|начиная "
    r"с|до|после|с)\s+(v?\d+(?:\.\d+)+|v\d+|version \d+|версии \d+(?:\.\d+)*)",
    re.I,
)
# a year in the sentence dates its claim ("75% of respondents in 2022"): another year, another time
_YEAR = re.compile(r"(?<![\w.-])(?:19|20)\d\d(?![\w.-])")
# sections that describe what a note argues against, or what was considered and left: their
# claims are not the note's own ("Motivation" states the problem the proposal removes)
_DISCUSSION = re.compile(
    r"\b(motivation|background|problem|prior art|alternatives?|rationale|drawbacks?|considered|rejected|"
    r"unresolved|open questions?|future (work|possibilities)|history|context|мотиваци|предыстори|проблем|"
    r"альтернатив|рассмотренн|отвергнут|недостатк|открытые вопросы|истори)",
    re.I,
)


def _section_status(heading: tuple[str, ...]) -> str | None:
    return "discussion" if any(_DISCUSSION.search(h) for h in heading) else None


_RFC = re.compile(
    r"\b(MUST NOT|SHALL NOT|SHOULD "
    r"NOT|MUST|SHALL|SHOULD|MAY|REQUIRED|RECOMMENDED|OPTIONAL|ДОЛЖЕН НЕ|НЕ "
    r"ДОЛЖЕН|ДОЛЖНА|ДОЛЖНО|ДОЛЖНЫ|ДОЛЖЕН|МОЖЕТ)\b"
)
_NEVER = re.compile(
    r"\b(?:never(?:\s+ever)?|must not|must never|mustn't|shall not|shall never|is not allowed to|are "
    r"not allowed to|никогда\s+не|запрещено|нельзя|не должен|не должна|не должно|не "
    r"должны)\s+(?:be\s+|been\s+|get\s+|быть\s+)?([^\W\d_][\w-]*)",
    re.I,
)
_ORDER_SPLIT = re.compile(
    r"\b(?:and\s+)?(?:only\s+)?then\b|,?\s*\b(?:а\s+)?(?:затем|потом|после этого|только потом)\b|\bfollowed by\b", re.I
)
_ORDER_MARK = re.compile(r"\b(first|then|сначала|затем|потом)\b", re.I)
# "the never type", "a never-ending": `never` as part of a noun phrase, not a directive
_NEVER_NOUN = re.compile(r"\b(?:the|a|an|this|that|its|our|their)\s+(?:\[)?never\b", re.I)
# "was never proposed", "has never been": history, not a rule
_NEVER_PAST = re.compile(r"\b(?:was|were|has|have|had|did|would have)\s+never\b|\bnever\s+(?:was|were|had|did)\b", re.I)
# Russian past tense after "никогда не": "никогда не удалял" reports, it does not forbid
_RU_PAST = re.compile(r"(?:л|ла|ло|ли|лся|лась|лось|лись)$")
# verbs of clicking through a user interface: two procedures share them without being one procedure
UI_VERBS = {
    stem(w)
    for w in """click select choose press type open go navigate tap enter pick switch toggle drag scroll
    нажмите нажать выберите выбрать откройте открыть введите ввести перейдите перейти щёлкните щелкните""".split()
}
# a code span that is just a value, possibly named: `600s`, `12.5MB/s`, `keep-daily 7`, `timeout: 30s`
_VALUE_SPAN = re.compile(
    r"\s*(?:[A-Za-z_][\w.-]*\s*[:=]?\s*)?[<>≤≥~]?\s*\d+(?:[.,]\d+)?\s*[^\W\d_]{0,6}(?:/[^\W\d_]{1,4})?\s*"
)
_CODE_SPAN_RX = re.compile(r"(`+)(.+?)\1")
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|<[\w -]+>")
_FLAG_VALUE = re.compile(r"(?:^|\s)--?[A-Za-z][\w-]*(?:=|\s+)\S+")
_CONDITIONAL = re.compile(r"\b(if|when|unless|если|когда)\b", re.I)
_CONST = re.compile(
    r"^\s*(?:CONST|CONSTANT|LET|SET|DEFINE|КОНСТ|КОНСТАНТА)?\s*([^\W\d][\w]*)\s*(?:=|<-|:=|←)\s*(.+?)\s*(?://.*)?$"
)
_TABLE_CELL = re.compile(r"\s*\|\s*")


class FactKind(StrEnum):
    """What a fact claims. Each kind that can clash has its rule in a module of its own
    (`knowledge.quantity`, `knowledge.prohibition`, `knowledge.order`)."""

    QUANTITY = "quantity"
    PROHIBITION = "prohibition"
    ORDER = "order"
    RULE = "rule"  # an RFC 2119 requirement: extracted for the judge, compared by no rule
    STATEMENT = "statement"  # a plain sentence on the other side of a prohibition


@dataclass(frozen=True, slots=True)
class Quantity:
    value: float  # in pint base units (seconds, bytes, ...) or a plain count
    dim: str  # pint dimensionality, "count" or "number"
    role: str  # value | max | min | range | period | delay | approx
    high: float | None = None  # upper end of a range
    per: str | None = None  # "per page" -> "page"
    raw: str = ""
    what: str | None = None  # the counted noun: "100 items per page" -> "item"
    at: int = 0  # where in the sentence the number stands
    worded: bool = False  # a count in words ("three zones"): which things are counted is a guess


@dataclass(frozen=True, slots=True)
class Fact:
    path: str
    range: Range
    text: str
    kind: FactKind
    stems: frozenset[str]
    local: frozenset[str]  # stems near the claim itself (the quantity or the prohibited verb), same clause
    ident: tuple[str, ...] = ()  # identifier parts when the subject is a named setting/constant
    quantity: Quantity | None = None
    verb: str | None = None  # the prohibited action, for prohibitions
    order: tuple[tuple[str, ...], ...] = ()  # ordered clause stems, for orders
    env: str | None = None
    status: str | None = None  # rejected | superseded | hypothetical | question
    version: str | None = None
    heading: tuple[str, ...] = field(default=())
    name: str = ""  # the whole identifier, folded, when the subject is one named constant or setting
    row_key: frozenset[str] = frozenset()  # a table row's first cell: the row's subject
    block: int = -1  # first line of the paragraph, list or table the claim is in (-1: its own)
    attribute: frozenset[str] = frozenset()  # a table value's column header: which attribute of the row's subject
    about_note: bool = False  # a front-matter value: its subject is the note itself

    @property
    def line(self) -> int:
        return self.range.start.line


def note_status(note: Note) -> str | None:
    """A whole note's status from its front matter: superseded / rejected / deprecated / draft."""
    st = str(note.front_matter.get("status", "")).lower()
    for key in ("superseded", "deprecated", "rejected", "obsolete", "отклонен", "устарел", "заменен"):
        if key in st:
            return "superseded" if key != "rejected" and key != "отклонен" else "rejected"
    if note.front_matter.get("superseded_by") or note.front_matter.get("superseded-by"):
        return "superseded"
    return None


# an English environment word names an environment only in context ("in production", "the dev
# profile"): "a restore test", "the staging area" or "local disk" are not environments
_ENV_CONTEXT = re.compile(
    r"\b(?:in|on|for|against)\s+(?:the\s+)?`?(\w+)`?\b|\b`?(\w+)`?\s+(?:environment|profile|cluster|deployment|"
    r"build|mode|config|configuration|stage|instance|server|servers)\b",
    re.I,
)
_ENV_ALWAYS = {"prod", "production", "development", "devel"} | {
    w for keys in ENVIRONMENTS.values() for w in keys if re.match(r"[а-яё]", w)
}


def _env(plain: str) -> str | None:
    words = {w.lower() for w in re.findall(r"\w+", plain)}
    named = {w.lower() for m in _ENV_CONTEXT.finditer(plain) for w in m.groups() if w}
    for env, keys in ENVIRONMENTS.items():
        if (words & keys & _ENV_ALWAYS) or (named & keys):
            return env
    return None


def _status(text: str) -> str | None:
    t = text.strip()
    if t.endswith("?") or _QUESTION_START.match(t) and "?" in t:
        return "question"
    for name, rx in _STATUS_WORDS.items():
        if rx.search(t):
            return name
    return None


def extract_facts(note: Note, sentences: list[tuple[str, tuple[str, ...], str, Range]] | None = None) -> list[Fact]:
    """Facts of one note. `sentences` as (kind, heading path, text, range); default: the note's own."""
    if sentences is None:
        sentences = [(s.kind, tuple(note.heading_path(s.heading)), s.text, s.range) for s in note.sentences]
    fm_status = note_status(note)
    blocks = _block_starts(note.text)
    out: list[Fact] = []
    table_header: list[str] | None = None
    last_row = -10
    for kind, heading, text, rng in sentences:
        if kind == "row":
            cells = _TABLE_CELL.split(text.strip().strip("|"))
            # a row right after a separator-less gap starts a new table: its first row is the header
            if table_header is None or rng.start.line > last_row + 2:
                table_header, last_row = cells, rng.start.line
                continue
            last_row = rng.start.line
            found = _facts_from_row(note.path, rng, text, cells, table_header, heading, fm_status)
        elif kind == "code":
            table_header = None
            found = _facts_from_code(note.path, rng, text, heading, fm_status)
        else:
            table_header = None
            found = _facts_from_sentence(note.path, rng, text, heading, fm_status)
        block = blocks[rng.start.line] if rng.start.line < len(blocks) else -1
        out += [replace(f, block=block) for f in found]
    return _facts_from_front_matter(note, fm_status) + out


def _block_starts(text: str) -> list[int]:
    """For each line, the first line of the run of non-blank lines it belongs to (a paragraph, a
    list, a table): two claims in one block are usually about different scopes ("Standard plan:
    1 month; Plus plan: 12 months"), not the same thing stated twice."""
    out: list[int] = []
    start = 0
    for i, line in enumerate(text.split("\n")):
        if not line.strip() or line.lstrip().startswith("#"):
            start = i + 1
            out.append(i)
        else:
            out.append(start)
    return out


_FM_LINE = re.compile(r"^([^\s#:][^:]{0,40}):\s*(\S.*)$")


def _facts_from_front_matter(note: Note, fm_status: str | None) -> list[Fact]:
    """`key: value` lines of the front matter: the subject is the key within the note's title
    ("heater: oil-filled, 2 kW" in a note "Greenhouse" is about the greenhouse's heater)."""
    if note.front_matter_range is None or not note.text:
        return []
    title = frozenset(content_stems(note.title))
    out = []
    lines = note.text.split("\n")
    for i in range(note.front_matter_range.start.line + 1, min(note.front_matter_range.end.line, len(lines))):
        m = _FM_LINE.match(lines[i].rstrip("\r"))
        if not m or m.group(1).strip().lower() in ("date", "created", "updated", "tags", "aliases", "status", "title"):
            continue
        key, value = m.group(1).strip(), m.group(2)
        for q in quantities(value.replace("`", ""))[:1]:
            rng = Range.of(i, 0, i, len(lines[i].rstrip("\r")))
            base = _base(
                note.path,
                rng,
                lines[i].strip(),
                (note.title,),
                fm_status,
                ident_parts(key) if re.fullmatch(r"[\w.\-]+", key) else (),
            )
            local = frozenset(content_stems(key)) | title | set(base["ident"])
            # the note is the subject (like a table row's first cell): the other side must name it
            out.append(
                Fact(
                    kind=FactKind.QUANTITY,
                    quantity=q,
                    **{**base, "local": local, "stems": base["stems"] | title, "row_key": title, "about_note": True},
                )
            )
    return out


def _base(path: str, rng: Range, text: str, heading: tuple[str, ...], fm_status: str | None, ident=()) -> dict:
    plain = text.replace("`", "")
    stems = frozenset(s for s in content_stems(plain) if s not in _UNIT_STEMS) | frozenset(ident)
    vm = _VERSION.search(plain) or _YEAR.search(plain)
    return dict(
        path=path,
        range=rng,
        text=text,
        stems=stems,
        local=stems,
        ident=tuple(ident),
        env=_env(plain),
        status=fm_status or _status(plain) or _section_status(heading),
        version=vm.group(0).lower() if vm else None,
        heading=heading,
    )


def _example_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` (backticks removed) shows example values rather than stating them: code spans
    that are more than a value (`date + "1M"`, a command line), template placeholders
    (`{{30s}}`) and values of command-line flags (`--timeout 30s`)."""
    spans: list[tuple[int, int]] = []
    removed = 0
    for m in _CODE_SPAN_RX.finditer(text):
        ticks = len(m.group(1))
        start = m.start() - removed
        removed += 2 * ticks
        if not _VALUE_SPAN.fullmatch(m.group(2)):
            spans.append((start, start + len(m.group(2))))
    plain = text.replace("`", "")
    spans += [m.span() for m in _PLACEHOLDER.finditer(plain)]
    spans += [m.span() for m in _FLAG_VALUE.finditer(plain)]
    return spans


def _directive(plain: str) -> re.Match | None:
    """A prohibition the sentence states now ("never deletes", "MUST NOT store"), not a noun
    ("the never type"), not history ("was never proposed") and not a past report in Russian."""
    if _NEVER_NOUN.search(plain) or _NEVER_PAST.search(plain):
        return None
    m = _NEVER.search(plain)
    if m is None or m.group(1).lower().endswith("ly"):
        return None
    if re.match(r"[а-яё]", m.group(1), re.I) and _RU_PAST.search(m.group(1).lower()):
        return None
    return m


# cheap tests before the costly ones: most sentences state no number, forbid nothing and list
# no steps, and a note's facts are extracted on every edit of an open document
_MAY_FORBID = re.compile(r"never|must|mustn|shall|not allowed|никогда|запрещ|нельзя|долж", re.I)


def _facts_from_sentence(path: str, rng: Range, text: str, heading, fm_status) -> list[Fact]:
    plain = text.replace("`", "")
    found = quantities(plain) if _MAY_COUNT.search(plain) else []
    if found:
        examples = _example_spans(text)
        if plain.rstrip().endswith(":"):
            examples.append((0, len(plain)))  # "Seek forward 10 seconds:" introduces an example, it states no value
        found = [q for q in found if not any(a <= q.at < b for a, b in examples)]
    m = _directive(plain) if _MAY_FORBID.search(plain) else None
    order = _order(plain)
    rule = not (found or m or order) and _RFC.search(text)
    if not (found or m or order or rule):
        return []
    base = _base(path, rng, text, heading, fm_status, _idents(text))
    # a short line ("heater: oil-filled, 2 kW") leaves its subject to the heading above it
    implicit = frozenset(content_stems(heading[-1])) if heading and len(plain.split()) <= 6 else frozenset()
    # a count's subject runs on into the list it counts ("three zones: tomatoes, cucumbers, peppers")
    out = [
        Fact(
            kind=FactKind.QUANTITY,
            quantity=q,
            **{
                **base,
                "local": (base["stems"] if q.dim == "count" and q.what else _local(plain, q.at, 8))
                | set(base["ident"])
                | implicit,
            },
        )
        for q in found
    ]
    if m:
        out.append(
            Fact(kind=FactKind.PROHIBITION, verb=stem(m.group(1)), **{**base, "local": _local(plain, m.start(1), 5)})
        )
    if order:
        out.append(Fact(kind=FactKind.ORDER, order=order, **base))
    if rule:
        out.append(Fact(kind=FactKind.RULE, **base))
    return out


def _facts_from_code(path: str, rng: Range, text: str, heading, fm_status) -> list[Fact]:
    m = _CONST.match(text)
    if not m or not (m.group(1).isupper() or "_" in m.group(1)) or _CONDITIONAL.search(text):
        return []
    name, value = m.group(1), m.group(2)
    comment = text.split("//", 1)[1] if "//" in text else ""
    parts = tuple(p for p in ident_parts(name) if p not in _UNIT_STEMS)  # ZONE_MINUTES is about the zone
    base = {
        **_base(path, rng, f"{name} = {value} {comment}", heading, fm_status, parts),
        "text": text.strip(),
        "name": ident_name(name),
    }
    qs = quantities(value) or _named_unit(name, value) or _bare(value, repeat=bool(set(parts) & _REPEAT_STEMS))
    return [Fact(kind=FactKind.QUANTITY, quantity=_ident_role(q, parts), **base) for q in qs[:1]]


def _facts_from_row(
    path: str, rng: Range, text: str, cells: list[str], header: list[str], heading, fm_status
) -> list[Fact]:
    """A table row: the first cell names the subject (often a setting), the rest are its values."""
    if not cells:
        return []
    subject = cells[0].strip("` ")
    named = re.fullmatch(r"[\w.\-]+", subject) is not None
    parts = ident_parts(subject) if named else ()
    base = {
        **_base(path, rng, text, heading, fm_status, parts),
        "name": ident_name(subject) if named and re.search(r"[_.]|[a-z][A-Z]", subject) else "",
        "row_key": frozenset(content_stems(subject)) | frozenset(parts),
    }
    out = []
    for col, cell in enumerate(cells[1:], 1):
        for q in quantities(cell.replace("`", "")) or _bare(
            cell.replace("`", ""), whole=True, repeat=bool(set(parts) & _REPEAT_STEMS)
        ):
            # the column says which attribute of the row's subject the value is (print vs drying temperature)
            value_cell = len(re.findall(r"[^\W\d_]{2,}", cell.replace(q.raw, " "))) < 2
            column = frozenset(content_stems(header[col])) if col < len(header) and value_cell else frozenset()
            fact = Fact(kind=FactKind.QUANTITY, quantity=_ident_role(q, parts), **base, attribute=column)
            out.append(replace(fact, local=fact.local | column))
            break
    return out[:1]


_CLAUSE = re.compile(r"[;:—–]|\s-\s")


def _local(text: str, at: int, words: int) -> frozenset[str]:
    """Stems within `words` words of offset `at`, not crossing a clause boundary (; : —)."""
    start = max((m.end() for m in _CLAUSE.finditer(text, 0, at)), default=0)
    nxt = _CLAUSE.search(text, at)
    end = nxt.start() if nxt else len(text)
    before = re.findall(r"[\w'-]+", text[start:at])[-words:]
    after = re.findall(r"[\w'-]+", text[at:end])[: words + 2]
    return frozenset(s for s in content_stems(" ".join(before + after)) if s not in _UNIT_STEMS)


def _idents(text: str) -> tuple[str, ...]:
    """Identifier parts of a setting named in code spans (`rescan_interval`)."""
    out: list[str] = []
    for m in re.finditer(r"`([A-Za-z][\w.]*_[\w.]*|[a-z]+[A-Z]\w*)`", text):
        out += ident_parts(m.group(1))
    return tuple(dict.fromkeys(out))


def ident_name(name: str) -> str:
    """`index_dump_interval`, `INDEX_DUMP_INTERVAL` and `indexDumpInterval` are one name."""
    return re.sub(r"[\W_]", "", name).casefold()


def _ident_role(q: Quantity, parts: tuple[str, ...]) -> Quantity:
    if q.role != "value":
        return q
    for role, keys in _IDENT_ROLE:
        if set(parts) & {stem(k) for k in keys}:
            return replace(q, role=role)
    return q


def _named_unit(name: str, value: str) -> list[Quantity]:
    """A bare number whose constant's name says the unit: `ZONE_MINUTES = 15`, `TIMEOUT_MS = 500`."""
    words = [w for w in re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", name) if w]
    unit = words[-1].lower() if words else ""
    if unit in _UNITS and len(unit) > 1 and len(words) > 1:
        return quantities(f"{value.strip()} {unit}")
    return []


def _bare(text: str, whole: bool = False, repeat: bool = False) -> list[Quantity]:
    """A unitless number when the text is just that number; `repeat`: it counts repetitions."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*", text)
    if not m:
        return []
    return [Quantity(float(m.group(1)), "times" if repeat else "number", "value", raw=m.group(1))]


def quantities(text: str) -> list[Quantity]:
    """Numbers with units (and counts: '5 times'), each with its role from the words before it."""
    out: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for m in _QUANTITY.finditer(text):
        unit = m.group(3)
        if len(unit) == 1 and (unit.lower() in ("b", "б") or (unit.isupper() and unit not in "W")):
            continue  # `14B`, `1M`, `3D`: billions, millions, dimensions; never bytes or months
        if unit.lower() in ("m", "d", "с", "s") and not re.match(r"\d", text[m.start(1) :]):
            continue
        dim, factor = _unit_info(unit.lower(), bool(m.group(4)))
        lo = _num(m.group(1)) * factor
        hi = _num(m.group(2)) * factor if m.group(2) else None
        role = "range" if hi is not None else _role(text[: m.start()])
        if re.search(r"\d\s*(?:/|,|or|или)\s*$", text[: m.start()]):
            role = "approx"  # the last of a series ("stages of 3 / 6 / 9 kW"): options, not one value
        out.append(Quantity(lo, dim, role, hi, _per(text[m.end() :]), m.group(0), at=m.start()))
        taken.append(m.span())
    for m in re.finditer(_NUM + r"\s+(" + "|".join(_COUNT_WORDS) + r")\b", text, re.I):
        if not any(s <= m.start() < e for s, e in taken):
            out.append(
                Quantity(_num(m.group(1)), "times", _role(text[: m.start()]), None, None, m.group(0), at=m.start())
            )
            taken.append(m.span())
    rng = re.search(r"\bbetween\s+" + _NUM + r"\s*(\w*)\s+and\s+" + _NUM + r"\s*(\w+)", text, re.I)
    if rng and rng.group(4).lower() in _UNITS:
        dim, factor = _unit_info(rng.group(4).lower(), False)
        out = [q for q in out if not (rng.start() <= text.find(q.raw) < rng.end())]
        out.append(
            Quantity(
                _num(rng.group(1)) * factor,
                dim,
                "range",
                _num(rng.group(3)) * factor,
                None,
                rng.group(0),
                at=rng.start(),
            )
        )
    for m in re.finditer(
        r"\b(at most|up to|no more than|не более|до)\s+" + _NUM + r"\s+(?:(\w+)\s+)?(?:per|на)\s+(\w+)", text, re.I
    ):
        if not any(s <= m.start(2) < e for s, e in taken):
            what = stem(m.group(3)) if m.group(3) else None
            out.append(
                Quantity(_num(m.group(2)), "count", "max", None, stem(m.group(4)), m.group(0), what, at=m.start())
            )
    return out + _counts(text)


_NUMBER_WORDS = {
    word: n
    for n, words in enumerate(
        [
            "",
            "",
            "two два две двух",
            "three три трёх трех",
            "four четыре четырёх четырех",
            "five пять пяти",
            "six шесть шести",
            "seven семь семи",
            "eight восемь восьми",
            "nine девять девяти",
            "ten десять десяти",
            "eleven одиннадцать",
            "twelve двенадцать",
        ]
    )
    for word in words.split()
}
_NW = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_MAY_COUNT = re.compile(r"\d|\b(?:" + _NW + r")\b", re.I)  # see _facts_from_sentence
# "three zones", "на три зоны"; and the Russian inversion at the start of a line: "Зон четыре: ..."
_COUNTED = re.compile(r"(?<![\w-])(" + _NW + r")\s+([^\W\d_]{3,})", re.I)
_COUNTED_INV = re.compile(r"^\W*([^\W\d_]{3,})\s+(" + _NW + r")\s*[:—–]", re.I)


_NON_EXHAUSTIVE = re.compile(
    r"\b(e\.g\.|such as|for example|for instance|including|например|такие как|в том числе|к примеру)", re.I
)


def _counts(text: str) -> list[Quantity]:
    """Things counted in words: 'split into three zones: ...' -> 3 zones (one is too common to mean a count)."""
    out: list[Quantity] = []
    if _NON_EXHAUSTIVE.search(text):
        return out  # "e.g. two sensors" counts examples, not the things
    for m in _COUNTED.finditer(text):
        noun = m.group(2)
        if noun.lower() in _UNITS or noun.lower() in _COUNT_WORDS:
            continue
        out.append(
            Quantity(
                float(_NUMBER_WORDS[m.group(1).lower()]),
                "count",
                _role(text[: m.start()]),
                None,
                None,
                m.group(0),
                stem(noun),
                at=m.start(),
                worded=True,
            )
        )
    m = _COUNTED_INV.match(text)
    if m:
        out.append(
            Quantity(
                float(_NUMBER_WORDS[m.group(2).lower()]),
                "count",
                "value",
                None,
                None,
                m.group(0).strip(" :—–"),
                stem(m.group(1)),
                at=m.start(1),
                worded=True,
            )
        )
    return out


def _num(s: str) -> float:
    return float(s.replace(",", "."))


def _role(before: str) -> str:
    tail = before[-40:]
    for role, rx in _ROLE_BEFORE:
        if rx.search(tail):
            return role
    return "value"


def _per(after: str) -> str | None:
    m = re.match(r"\s*(?:\w+\s+)?per\s+(\w+)", after, re.I)
    return stem(m.group(1)) if m else None


def _order(text: str) -> tuple[tuple[str, ...], ...]:
    """Clauses in the order the sentence says things happen, as stem tuples; () when no order is stated."""
    if not _ORDER_MARK.search(text):
        return ()
    if _CONDITIONAL.search(text.split(",")[0]) and re.search(r"\bthen\b", text, re.I):
        return ()  # "if X then Y" is a condition, not a sequence
    parts = [p for p in _ORDER_SPLIT.split(text) if p and p.strip()]
    if len(parts) < 2:
        return ()  # "before"/"after" are as often about time ("before Rust 1.0") as about steps
    clauses = tuple(tuple(content_stems(p)) for p in parts)
    return clauses if sum(1 for c in clauses if c) >= 2 else ()


_LEAD = re.compile(r"^[\s>*+\-\d.)\[\]!]*(?:(?:note|tip|important|warning|info)\]?[+-]?\s*)?", re.I)
_ADVERBS = {
    "always",
    "never",
    "first",
    "then",
    "please",
    "now",
    "next",
    "finally",
    "сначала",
    "затем",
    "потом",
    "всегда",
}
_OBJECT_START = {"the", "a", "an", "your", "it", "them", "this", "these", "all", "each", "every", "any", "its", "their"}


def is_instruction(text: str) -> bool:
    """An imperative step ("Heat the nozzle to 240 °C", "Нажмите кнопку"): its values are
    parameters of its own procedure, not claims about the thing in general."""
    words = re.findall(r"[^\W\d_][\w'-]*", _LEAD.sub("", text))
    while words and words[0].lower() in _ADVERBS:
        words = words[1:]
    if len(words) < 2:
        return False
    first = words[0].lower()
    if re.match(r"[а-яё]", first):
        return first.endswith(("ите", "йте"))
    return words[1].lower() in _OBJECT_START and first not in _OBJECT_START


def statement_fact(path: str, rng: Range, text: str, heading: tuple[str, ...] = ()) -> Fact:
    """A plain sentence as a fact (the other side of a prohibition): its stems, and the scope
    qualifiers a fact has (status: a statement marked superseded claims nothing; environment;
    version)."""
    return Fact(kind=FactKind.STATEMENT, **_base(path, rng, text, heading, None))
