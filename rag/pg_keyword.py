"""Keyword search inside PostgreSQL: the local store's BM25, computed in SQL.

PostgreSQL's own full-text ranking (``ts_rank``) is not BM25, so the store keeps the same
tokens as the local index (`rag.lexical`: words, the corpus `Lexicon`, its tokens) in a
postings table, ``(token, chunk) -> tf`` with each passage's token count beside it, and
scores a question with BM25 (bm25s's "lucene" variant, `BM25_K1`, `BM25_B`) in one query
that reads only the question's tokens' postings through the primary key. As in the local
index (`rag.keyword_index`), a token's IDF counts the passages in the question's language;
the count of passages per language is kept in ``rag.meta``.

The lexicon is a property of the whole corpus (a word's language is the language whose
passages use it most), so a write re-derives it from every passage, as the local index
does on every update, and rewrites the postings of only the passages whose tokens changed
(a digest per passage tells). A new `ANALYZER_VERSION` re-analyzes at the next open.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from psycopg import Connection

from .lexical import (ANALYZER_VERSION, BM25_B, BM25_K1, BM25_METHOD, Lexicon, corpus_tokens,
                      fold_accents, question_language, words)

if BM25_METHOD != "lucene":  # the SQL below is the lucene variant
    raise ImportError(f"rag.pg_keyword computes BM25 'lucene', not {BM25_METHOD!r}")

# One pass over the query tokens' postings: df by a window over the token, then BM25.
# A token's IDF is its rarity among the passages in the question's language when some
# passage is in it (see rag.keyword_index), else among all passages.
_SCORED = """
WITH s AS (SELECT chunks::float8 AS n, tokens::float8 / greatest(chunks, 1) AS avgdl,
                  coalesce((SELECT (value ->> %(lang)s)::float8 FROM rag.meta
                            WHERE key = 'passages_by_lang'), 0) AS n_lang
           FROM rag.stats),
p AS (SELECT p.chunk, p.tf, p.tokens, count(*) OVER w ::float8 AS df,
             count(*) FILTER (WHERE c.lang = %(lang)s) OVER w ::float8 AS df_lang
      FROM rag.postings p JOIN rag.chunks c ON c.rowid = p.chunk
      WHERE p.token = ANY(%(tokens)s) WINDOW w AS (PARTITION BY p.token)),
scored AS (
    SELECT p.chunk, sum(CASE WHEN s.n_lang > 0
                             THEN ln(1 + (s.n_lang - p.df_lang + 0.5) / (p.df_lang + 0.5))
                             ELSE ln(1 + (s.n - p.df + 0.5) / (p.df + 0.5)) END
                        * p.tf / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.tokens / s.avgdl)))
           AS score
    FROM p CROSS JOIN s GROUP BY p.chunk)
"""


@dataclass(frozen=True)
class Reanalysis:
    """What a re-analysis changed: passages whose postings were rewritten, corpus tokens."""

    rewritten: int
    tokens: int


class _DatabaseVocabulary:
    """``token in vocabulary`` answered by the postings table (the lexicon asks this for
    a question's words the corpus does not know; a handful per question)."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self._known: dict[str, bool] = {}

    def __contains__(self, token: object) -> bool:
        if token not in self._known:
            self._known[token] = self._conn.execute(
                "SELECT EXISTS (SELECT 1 FROM rag.postings WHERE token = %s)",
                (token,)).fetchone()[0]
        return self._known[token]


def query_tokens(conn: Connection, query: str) -> list[str]:
    """The question's tokens that occur in the corpus, as `KeywordIndex.query_tokens`."""
    langs = conn.execute("SELECT langs FROM rag.stats").fetchone()[0]
    if not langs:
        return []
    keys = sorted({fold_accents(w) for w in words(query)})
    found = dict(conn.execute("SELECT word, lang FROM rag.lexicon WHERE word = ANY(%s)",
                              (keys,)).fetchall())
    vocabulary = _DatabaseVocabulary(conn)
    return [t for t in Lexicon(found, tuple(langs)).query(query, vocabulary)
            if t in vocabulary]


def scored_sql(select: str) -> str:
    """`_SCORED` followed by ``select`` (which reads ``scored(chunk, score)``)."""
    return _SCORED + select


def bm25_params(tokens: Sequence[str], query: str) -> dict:
    """The parameters of `_SCORED` for ``query``'s ``tokens``."""
    return {"tokens": list(tokens), "k1": BM25_K1, "b": BM25_B,
            "lang": question_language(words(query)) or None}


# --------------------------------------------------------------------------- writing

def _digest(tokens: Sequence[str]) -> str:
    return hashlib.blake2b("\n".join(tokens).encode(), digest_size=12).hexdigest()


def reanalyze(conn: Connection, force: bool = False) -> Reanalysis:
    """Re-derive the lexicon and every passage's tokens; rewrite what changed (all with
    ``force``). Runs inside the writer's transaction."""
    rows, texts, langs, digests = [], [], [], []
    with conn.cursor(name="rag_reanalyze") as cur:
        cur.itersize = 5000
        cur.execute("SELECT c.rowid, c.text, c.lang, a.digest FROM rag.chunks c "
                    "LEFT JOIN rag.analyzed a ON a.chunk = c.rowid ORDER BY c.rowid")
        for rowid, text, lang, digest in cur:
            rows.append(rowid), texts.append(text), langs.append(lang), digests.append(digest)
    lexicon, corpus = corpus_tokens(texts, langs)
    del texts
    changed = [i for i, tokens in enumerate(corpus)
               if force or _digest(tokens) != digests[i]]
    stale = [rows[i] for i in changed if digests[i] is not None]
    for table, column in (("postings", "chunk"), ("analyzed", "chunk")):
        if stale:
            conn.execute(f"DELETE FROM rag.{table} WHERE {column} = ANY(%s)", (stale,))
    _write_postings(conn, [rows[i] for i in changed], [corpus[i] for i in changed])
    _write_lexicon(conn, lexicon)
    total = sum(map(len, corpus))
    conn.execute("UPDATE rag.stats SET tokens = %s, langs = %s",
                 (total, list(lexicon.langs) if corpus else []))
    conn.execute("INSERT INTO rag.meta VALUES ('passages_by_lang', %s::jsonb) ON CONFLICT (key) "
                 "DO UPDATE SET value = EXCLUDED.value", (json.dumps(Counter(langs)),))
    conn.execute("UPDATE rag.meta SET value = %s::jsonb WHERE key = 'analyzer'",
                 (str(ANALYZER_VERSION),))
    return Reanalysis(len(changed), total)


def _write_postings(conn: Connection, rows: list[int], corpus: list[list[str]]) -> None:
    with conn.cursor() as cur:
        with cur.copy("COPY rag.postings (token, chunk, tf, tokens) FROM STDIN") as copy:
            for row, tokens in zip(rows, corpus):
                for token, tf in Counter(tokens).items():
                    copy.write_row((token, row, tf, len(tokens)))
        with cur.copy("COPY rag.analyzed (chunk, tokens, digest) FROM STDIN") as copy:
            for row, tokens in zip(rows, corpus):
                copy.write_row((row, len(tokens), _digest(tokens)))


def _write_lexicon(conn: Connection, lexicon: Lexicon) -> None:
    """Make ``rag.lexicon`` hold exactly ``lexicon.word_langs`` (writing the differences)."""
    old = dict(conn.execute("SELECT word, lang FROM rag.lexicon").fetchall())
    new = lexicon.word_langs
    gone = [w for w in old if w not in new]
    if gone:
        conn.execute("DELETE FROM rag.lexicon WHERE word = ANY(%s)", (gone,))
    changed = [(w, lang) for w, lang in new.items() if old.get(w) != lang]
    if not changed:
        return
    conn.execute("CREATE TEMP TABLE rag_words (word text, lang text) ON COMMIT DROP")
    with conn.cursor() as cur, cur.copy("COPY rag_words FROM STDIN") as copy:
        for row in changed:
            copy.write_row(row)
    conn.execute("INSERT INTO rag.lexicon SELECT word, lang FROM rag_words ON CONFLICT (word) "
                 "DO UPDATE SET lang = EXCLUDED.lang")
    conn.execute("DROP TABLE rag_words")
