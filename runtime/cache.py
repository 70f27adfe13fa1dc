"""Results of model work, kept in the index database so a restart does not repeat them.

One table of its own (`model_results`) in the same SQLite file as the index; the key is
(task input hash, model fingerprint), and the task's prompt version is part of the input hash.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import sqlean as sqlite3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS model_results (
    key TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    text TEXT NOT NULL,
    tokens INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    created REAL NOT NULL
)
"""


class ResultCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=10.0, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._db.commit()

    @staticmethod
    def key(input_hash: str, fingerprint: str) -> str:
        return hashlib.sha256(f"{input_hash}:{fingerprint}".encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT text, tokens, prompt_tokens FROM model_results WHERE key = ?", (key,)).fetchone()
        return None if row is None else {"text": row[0], "tokens": row[1], "prompt_tokens": row[2]}

    def put(self, key: str, task: str, text: str, tokens: int, prompt_tokens: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO model_results VALUES (?, ?, ?, ?, ?, ?)",
            (key, task, text, tokens, prompt_tokens, time.time()),
        )
        self._db.commit()

    def clear(self, task: str | None = None) -> int:
        cur = self._db.execute("DELETE FROM model_results WHERE ? IS NULL OR task = ?", (task, task))
        self._db.commit()
        return cur.rowcount

    def close(self) -> None:
        self._db.close()
