"""Saved prompt prefixes: the model's evaluated fixed instructions, kept on disk.

Every prompt starts with the same instructions (the system message). Evaluating them
costs seconds on a small CPU, and a one-shot process (``rag ask``) would pay that on
every run. `prime` evaluates such a prefix once, saves the model's state for it (its KV
cache) to a file, and a later process loads that file instead of evaluating again.

A state is only valid for the exact model file, prefix tokens, llama.cpp build and
context settings that made it: all of these go into its key (and its file name), so a
changed system prompt or a rebuilt llama.cpp simply misses and writes a new file. Files
are written atomically and carry a sha256 of their payload; a missing, stale, truncated
or corrupt file is ignored (a corrupt one deleted) and rebuilt. Only the few most
recently used files are kept.

The model side is behind `PrefixModel` (real: `rag.generate`'s llama.cpp session), so
this logic is tested without a model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, Protocol, Sequence

log = logging.getLogger(__name__)

MAGIC = b"RAGKV\x01"
SUFFIX = ".kv"
KEEP_FILES = 8  # builds and thread counts each have their own file (CI runs several)


class PrefixModel(Protocol):
    """What priming needs from a model: its evaluated tokens and its state."""

    def cached_tokens(self) -> Sequence[int]:
        """The tokens whose state the model holds now, in order."""

    def evaluate(self, tokens: Sequence[int]) -> None:
        """Forget the current state and evaluate ``tokens`` from the start."""

    def snapshot(self) -> bytes:
        """The state of the evaluated tokens, as bytes."""

    def restore(self, tokens: Sequence[int], state: bytes) -> bool:
        """Load a `snapshot` of ``tokens``; False (and an empty state) if it is refused."""


@dataclass(frozen=True)
class Primed:
    """The outcome of priming: how many prefix tokens the model now holds, and from where."""

    tokens: int
    source: Literal["memory", "disk", "evaluated"]
    seconds: float
    path: Path | None = None  # the state file read or written, if any


def state_key(parts: Mapping[str, Any], tokens: Sequence[int]) -> str:
    """A hex digest naming one prefix state: the model/build/context ``parts`` and the tokens."""
    digest = hashlib.sha256(json.dumps(dict(parts), sort_keys=True, default=str).encode())
    digest.update(struct.pack(f"<{len(tokens)}i", *tokens))
    return digest.hexdigest()


class PrefixStore:
    """State files in one directory, named ``{label}-{key}.kv``."""

    def __init__(self, directory: Path, keep: int = KEEP_FILES):
        self.directory = Path(directory)
        self.keep = keep

    def path(self, label: str, key: str) -> Path:
        return self.directory / f"{_safe(label)}-{key[:32]}{SUFFIX}"

    def load(self, label: str, key: str, tokens: Sequence[int]) -> tuple[bytes, Path] | None:
        """The saved state for (key, tokens), checked; None when missing or unusable."""
        path = self.path(label, key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("prefix state %s unreadable (%s); evaluating the prefix again", path, exc)
            return None
        state = _parse(blob, key, tokens)
        if state is None:
            log.warning("prefix state %s is stale or corrupt; evaluating the prefix again", path)
            _remove(path)
            return None
        _touch(path)
        return state, path

    def save(self, label: str, key: str, tokens: Sequence[int], state: bytes) -> Path | None:
        """Write atomically (temporary file, then rename); None if the directory is not
        writable (the prefix is then evaluated again next time, nothing else is lost)."""
        path = self.path(label, key)
        header = json.dumps({"key": key, "tokens": list(tokens), "bytes": len(state),
                             "sha256": hashlib.sha256(state).hexdigest()}).encode()
        tmp: Path | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=SUFFIX)
            tmp = Path(name)
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + struct.pack("<I", len(header)) + header + state)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not save the prefix state in %s (%s)", self.directory, exc)
            if tmp is not None:
                _remove(tmp)
            return None
        self._prune(label, path)
        return path

    def _prune(self, label: str, newest: Path) -> None:
        """Keep the ``keep`` most recently used files of this label."""
        files = sorted(self.directory.glob(f"{_safe(label)}-*{SUFFIX}"),
                       key=lambda p: _mtime(p), reverse=True)
        for old in [p for p in files if p != newest][max(self.keep - 1, 0):]:
            _remove(old)


def prime_prefix(model: PrefixModel, tokens: Sequence[int], store: PrefixStore | None,
                 label: str, key: str) -> Primed:
    """Make ``model`` hold the state of ``tokens``: already there, loaded from ``store``,
    or evaluated (and then saved)."""
    start = time.perf_counter()
    tokens = list(tokens)
    held = list(model.cached_tokens())
    if tokens and held[:len(tokens)] == tokens:
        return Primed(len(tokens), "memory", time.perf_counter() - start)
    saved = store.load(label, key, tokens) if store else None
    if saved and model.restore(tokens, saved[0]):
        return Primed(len(tokens), "disk", time.perf_counter() - start, saved[1])
    if saved:
        log.warning("llama.cpp refused the prefix state %s; evaluating the prefix again", saved[1])
        _remove(saved[1])
    model.evaluate(tokens)
    path = store.save(label, key, tokens, model.snapshot()) if store and tokens else None
    return Primed(len(tokens), "evaluated", time.perf_counter() - start, path)


def _parse(blob: bytes, key: str, tokens: Sequence[int]) -> bytes | None:
    """The payload of a state file if it is whole and made for exactly (key, tokens)."""
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 4:
        return None
    start = len(MAGIC) + 4
    (size,) = struct.unpack("<I", blob[len(MAGIC):start])
    try:
        header = json.loads(blob[start:start + size])
    except ValueError:
        return None
    state = blob[start + size:]
    if not isinstance(header, dict) or header.get("key") != key \
            or header.get("tokens") != list(tokens) or header.get("bytes") != len(state) \
            or header.get("sha256") != hashlib.sha256(state).hexdigest():
        return None
    return state


def _safe(label: str) -> str:
    """A label usable in a file name and a glob pattern."""
    return re.sub(r"[^A-Za-z0-9._]+", "_", label) or "model"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
