"""A seeded generator of realistic vaults for benchmarks.

Notes are sized like a real engineer's vault (log-normal, median ~250 words, a long
tail to a few thousand), about a third in Russian, in ~60 folders, with front matter
on half, 2-5 headings, ~6 links per note (a fifth to a heading, a few broken), tags,
and a pseudocode block in one note of eight. `generate(root, n)` is deterministic
for a given seed.

    python bench/vaultgen.py OUT_DIR [--notes 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

EN = (
    "sync backup chunk index retention window snapshot peer server client session timeout retry "
    "upload download storage bucket pack manifest hash key token latency throughput cache shard "
    "replica leader follower queue worker scheduler config deploy monitor alert metric log trace "
    "the a of to and in is for on with that by this be are from as at we it not or"
).split()
RU = (
    "синхронизация резервная копия чанк индекс хранение окно снимок узел сервер клиент сессия "
    "таймаут повтор загрузка хранилище бакет пакет манифест хеш ключ токен задержка кэш шард "
    "реплика лидер очередь воркер планировщик конфигурация развёртывание мониторинг метрика "
    "и в на с по для из что это не как от до при"
).split()
TOPICS_EN = ["Design", "Overview", "Open questions", "Decision", "Consequences", "Notes", "Plan", "Risks"]
TOPICS_RU = ["Дизайн", "Обзор", "Открытые вопросы", "Решение", "Последствия", "Заметки", "План", "Риски"]
FOLDERS = [
    "design",
    "decisions",
    "journal",
    "meetings",
    "ops",
    "ideas",
    "requirements",
    "research",
    "people",
    "проекты",
    "заметки",
]


def _lexicon(seed: int, n: int = 6000) -> tuple[list[str], list[str]]:
    """Made-up content words (a real vault's vocabulary is large), Latin and Cyrillic."""
    rng = random.Random(seed + 7)
    lat, cyr = "bcdfghklmnprstvz", "бвгдзклмнпрстфх"
    vow_l, vow_c = "aeiou", "аеиоуя"

    def word(cons: str, vows: str) -> str:
        return "".join(rng.choice(cons) + rng.choice(vows) for _ in range(rng.randint(2, 4)))

    return [word(lat, vow_l) for _ in range(n)], [word(cyr, vow_c) for _ in range(n)]


LEX_EN, LEX_RU = _lexicon(0)


def _sentence(rng: random.Random, words: list[str], topic: list[str] | None = None) -> str:
    """Function words from a small list, content words mostly from the note's topic."""
    n = rng.randint(6, 22)
    topic = topic or words
    s = " ".join(rng.choice(topic) if rng.random() < 0.6 else rng.choice(words) for _ in range(n))
    if rng.random() < 0.3:
        s += f" {rng.randint(1, 500)} {rng.choice(['MB', 'ms', 's', 'GB', 'minutes', 'МБ', 'секунд'])}"
    return s[0].upper() + s[1:] + "."


def note_names(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    names = []
    for i in range(n):
        folder = f"{rng.choice(FOLDERS)}/{rng.randint(0, 5)}"
        base = f"{rng.choice(RU if i % 3 == 0 else EN)}-{i}"
        names.append(f"{folder}/{base}.md")
    return names


def render(i: int, names: list[str], rng: random.Random) -> str:
    russian = i % 3 == 0
    words, topics = (RU, TOPICS_RU) if russian else (EN, TOPICS_EN)
    lex = LEX_RU if russian else LEX_EN
    start = (i * 37) % (len(lex) - 40)
    topic = lex[start : start + 40]  # neighbouring notes share some topic words
    n_words = int(min(4000, max(30, rng.lognormvariate(math.log(250), 0.8))))
    parts: list[str] = []
    if rng.random() < 0.5:
        parts.append(
            f"---\ntitle: Note {i}\ntags: [{rng.choice(FOLDERS)}, "
            f"t{rng.randint(0, 40)}]\nstatus: "
            f"{rng.choice(['draft', 'accepted', 'superseded'])}\n---\n"
        )
    title = Path(names[i]).stem
    parts.append(f"# {title}\n")
    headings = rng.sample(topics, rng.randint(2, 5))
    per_section = max(1, n_words // (len(headings) * 15))
    for h in headings:
        parts.append(f"\n## {h}\n")
        for _ in range(per_section):
            para = " ".join(_sentence(rng, words, topic) for _ in range(rng.randint(1, 4)))
            if rng.random() < 0.6:
                target = rng.randrange(len(names))
                tname = Path(names[target]).stem
                r = rng.random()
                if r < 0.2:
                    link = f"[[{tname}#{rng.choice(TOPICS_RU if target % 3 == 0 else TOPICS_EN)}]]"
                elif r < 0.25:
                    link = f"[[missing-{rng.randint(0, 10**6)}]]"
                elif r < 0.35:
                    link = f"[{tname}](/{names[target].replace(' ', '%20')})"
                else:
                    link = f"[[{tname}]]"
                para += f" See {link}."
            if rng.random() < 0.15:
                para += f" #{rng.choice(['idea', 'todo', 'вопрос', 'ops/alert', 'design'])}"
            if rng.random() < 0.3:
                parts.append(
                    "\n" + "\n".join(f"- {_sentence(rng, words, topic)}" for _ in range(rng.randint(2, 5))) + "\n"
                )
            else:
                parts.append("\n" + para + "\n")
    if i % 8 == 0:
        fn = f"step_{i}"
        callee = f"step_{rng.randrange(0, len(names), 8)}"
        parts.append(f"\n```pseudo\nFUNCTION {fn}(x)\n    y <- {callee}(x)\n    RETURN NOW() + y\nEND FUNCTION\n```\n")
    return "".join(parts)


def generate(root: Path, n_notes: int = 20000, seed: int = 0) -> Path:
    """Write the vault under `root` (skipped when it already holds the same vault)."""
    root = Path(root)
    stamp = root / ".vaultgen"
    if stamp.exists() and stamp.read_text() == f"{n_notes} {seed} v2":
        return root
    names = note_names(n_notes, seed)
    rng = random.Random(seed + 1)
    for i, rel in enumerate(names):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(render(i, names, rng), encoding="utf-8")
    stamp.write_text(f"{n_notes} {seed} v2")
    return root


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--notes", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    generate(a.out, a.notes, a.seed)
    print(f"wrote {a.notes} notes to {a.out}")
