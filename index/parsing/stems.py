"""Light stemming and stop words for English and Russian, enough to match subjects.

Not a linguistic stemmer: it folds the inflections that make two sentences about the
same thing look different ("retried" / "MAX_RETRIES", "хранилище" / "хранилища").
"""

from __future__ import annotations

import re
from functools import lru_cache

from ponder.index.parsing.positions import fold

STOP = set(
    """
    a an the of to in on at by for from with without into onto over under about as is are was were be been being
    it its this that these those there here and or but not no nor so than then too very can could would should
    will shall may might must do does did done has have had having we you they he she i me my our your their his her
    them us what which who whom whose when where why how all any both each few more most other some such only own same
    just also once per via vs etc e g i.e eg one two see also note notes use used using get gets got make makes made
    if else while until up down out off again further new old
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от меня еще
    нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам ведь там потом
    себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе под
    будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем чтобы нее сейчас были куда
    зачем всех никогда можно при наконец два об другой хоть после над больше тот через эти нас про всего них какая
    много разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно
    всю между это см также
    after before during within past due since ago later earlier yet still even ever every always never
    ваш ваши вашего вашей ваших наш наши нашего их который которая которое которые которых которой котором
    течение течении весь вся всё свой своя своё свои любой каждый каждая каждое
    """.split()
)
_IRREGULAR = {
    "written": "write",
    "wrote": "write",
    "thrown": "throw",
    "threw": "throw",
    "kept": "keep",
    "sent": "send",
    "ran": "run",
    "taken": "take",
    "took": "take",
    "given": "give",
    "gave": "give",
    "went": "go",
    "gone": "go",
    "held": "hold",
    "built": "build",
    "chosen": "choose",
    "chose": "choose",
    "known": "know",
    "knew": "know",
    "shown": "show",
    "lost": "lose",
    "stored": "store",
    "left": "leave",
    "begun": "begin",
    "began": "begin",
    "broken": "break",
    "broke": "break",
    "hidden": "hide",
    "frozen": "freeze",
    "read": "read",
    "split": "split",
}
_EN_SUFFIXES = (
    "ations",
    "ation",
    "ements",
    "ement",
    "ments",
    "ment",
    "ingly",
    "ings",
    "ing",
    "ions",
    "ion",
    "ies",
    "ied",
    "ers",
    "er",
    "ed",
    "es",
    "ly",
    "s",
)
_RU_SUFFIXES = tuple(
    sorted(
        """яется яются ается аются уется уются ировать ирован ением ениями ения ений ение ании ание ания ость ости
        иями ями ами ого его ому ему ыми ими ией ать ять ить еть уть ует уют ится ется ются ятся ешь ишь ет ют ат ят ит
        ая яя ое ее ые ие ый ий ой ей ам ям ах ях ом ем ов ев ию ия ии ью ы и а я о е у ю ь й""".split(),
        key=len,
        reverse=True,
    )
)
_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
_CYR = re.compile(r"[а-яё]")


@lru_cache(maxsize=262144)  # a vault's vocabulary is small; stemming every occurrence is not
def stem(word: str) -> str:
    w = fold(word).strip("'-")
    if w.endswith("'s"):  # possessive: server's -> server
        w = w[:-2]
    if w in _IRREGULAR:
        w = _IRREGULAR[w]
    if _CYR.search(w):
        for suf in _RU_SUFFIXES:
            if w.endswith(suf) and len(w) - len(suf) >= 3:
                return w[: -len(suf)]
        return w
    if len(w) <= 3:
        return w
    for suf in _EN_SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            if suf == "s" and w.endswith(("ss", "us", "is")):
                break
            w = w[: -len(suf)] + ("i" if suf in ("ies", "ied") else "")
            if suf in ("ed", "ing") and len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # dropped -> drop, running -> run
            break
    if w.endswith("y") and len(w) > 3:
        w = w[:-1] + "i"
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning, in order of first appearance."""
    out: dict[str, None] = {}
    for word in _WORD.findall(text):
        for s in _word_stems(word):
            out[s] = None
    return list(out)


@lru_cache(maxsize=262144)
def _word_stems(word: str) -> tuple[str, ...]:
    low = fold(word)
    if len(low) < 3 or low in STOP:
        return ()
    if "_" in low:
        parts = re.split(r"[_\-]", low)
    elif "-" in low:  # "CO2-трубка" is about the tube too: the whole word, then its parts
        parts = [low, *low.split("-")]
    else:
        parts = [low]
    return tuple(dict.fromkeys(stem(p) for p in parts if len(p) >= 3 and p not in STOP))


def ident_parts(name: str) -> tuple[str, ...]:
    """`index_dump_interval` / `maxRetries` / `BLOCK_SIZE` -> stems of the parts."""
    spaced = re.sub(r"(?<=[a-zа-я])(?=[A-ZА-Я])", "_", name)
    parts = [p for p in re.split(r"[_\-.\s]+", spaced) if p]
    return tuple(dict.fromkeys(stem(p) for p in parts if len(p) >= 2 and fold(p) not in STOP))
