"""Keyword tokens: words analysed so that they mean the same in every passage.

The BM25 index over these tokens is `rag.keyword_index`.

Words: lowercased, Italian/French elided articles and prepositions removed
(``dell'economia`` → ``economia``, ``l’azienda`` → ``azienda``), English possessives
removed (``Musk's`` → ``musk``), numbers kept whole (``22,1``, ``2.9``).

Tokens: each word is treated by *its own* language, not by the label of the passage it
sits in. A `Lexicon` assigns every word of the corpus the language whose passages use it
most; that language's stopword list decides whether the word is dropped and its Snowball
stemmer gives its token (accents folded), in every passage and in every question alike.
So "di" in an Italian corpus is a stopword everywhere, even in a page detected as English
because it quotes English programme names, and "science" gets one token whether it is
quoted in an Italian article or written in an English one.

Why: with per-passage analysis, an Italian function word ("di", "il", "che") was dropped
from Italian passages but kept, as a rare and therefore heavily weighted term, in the few
passages detected as English, and an Italian content word stemmed by the English stemmer
("corso", "laurea") became a second, rare term beside its Italian stem ("cors", "laure").
A question analyzed in every language carried both forms, and its best matches were the
wrong-language passages. A question is now one token per word: a word the corpus knows
gets its corpus token; an unknown word is stemmed in the language of the question's known
words (their majority), falling back to the corpus's other languages, and counts once.

`ANALYZER_VERSION` changes whenever the tokens or the BM25 scoring change; an index saved
by another version is rebuilt (see `rag.keyword_index`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Collection, Iterable, Mapping, Sequence

import Stemmer
from bm25s import stopwords as bm25_stopwords

ANALYZER_VERSION = 4
# BM25 variant and parameters (tuned on the SQuAD-it dev split, see rag/evaluate.py).
BM25_METHOD = "lucene"
BM25_K1 = 0.75
BM25_B = 0.5

# Words every question is full of, beyond the stock lists (compared accent-folded).
_EXTRA_STOPWORDS = {
    "it": """quale quali quanto quanta quanti quante cosa cos chi come dove quando perche
             perchè cui essere stato stata stati state era erano viene vengono venne furono
             ha hanno aveva avevano fatto fatta molto molti molte poi gia ancora anche solo
             nome tipo quali""",
    "en": """what which who whom whose when where why how was were is are been being be
             did does do done has have had there their them they its it this that these
             those than then also into onto about over after before such other some many
             much more most any each name named called type kind""",
}
_LANGUAGES = {
    "en": ("english", bm25_stopwords.STOPWORDS_EN_PLUS),
    "it": ("italian", bm25_stopwords.STOPWORDS_ITALIAN),
    "fr": ("french", bm25_stopwords.STOPWORDS_FRENCH),
    "de": ("german", bm25_stopwords.STOPWORDS_GERMAN),
    "es": ("spanish", bm25_stopwords.STOPWORDS_SPANISH),
    "pt": ("portuguese", bm25_stopwords.STOPWORDS_PORTUGUESE),
}
DEFAULT_LANG = "en"
# Words, and numbers with inner separators kept whole: 22,1  250.000  12%  2022
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)
_APOSTROPHE = "['’`´]"
# Italian (and French) elisions: l'anno, dell'economia, un'azienda, c'è, quest'anno, d'Italia.
_ELISION = re.compile(
    r"\b(?:l|un|d|c|s|m|t|v|n|j|qu|ch|dell|dall|nell|sull|all|coll|pell|quell|quest|"
    r"bell|sant|buon|nessun|tutt|lorsqu|puisqu|jusqu)" + _APOSTROPHE + r"(?=\w)",
    re.UNICODE | re.IGNORECASE)
# English possessive and contractions: Musk's, Biden’s, don't (the suffix goes).
_ENGLISH_SUFFIX = re.compile(r"(?<=\w)" + _APOSTROPHE + r"(?:s|t|re|ve|ll|d|m)\b", re.UNICODE)


def _lang(lang: str) -> str:
    return lang if lang in _LANGUAGES else DEFAULT_LANG


@lru_cache(maxsize=None)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_LANGUAGES[_lang(lang)][0])


@lru_cache(maxsize=None)
def _stopwords(lang: str) -> frozenset[str]:
    lang = _lang(lang)
    listed = [*_LANGUAGES[lang][1], *_EXTRA_STOPWORDS.get(lang, "").split()]
    return frozenset(fold_accents(w.lower()) for w in listed)


def fold_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Lowercased words and numbers, without elided articles (l', dell') or possessives."""
    text = _ENGLISH_SUFFIX.sub("", _ELISION.sub(" ", text.lower()))
    return _TOKEN.findall(text)


def analyze(text: str, lang: str) -> list[str]:
    """Tokens of a text in one language ``lang``: stopwords out, stemmed, accents folded.

    Corpus-free: for comparing a few texts of one language. Ranking over a corpus uses a
    `Lexicon`, which treats each word by its own language."""
    stop = _stopwords(lang)
    kept = [w for w in words(text) if fold_accents(w) not in stop]
    return [fold_accents(s) for s in _stemmer(lang).stemWords(kept)]


def analyze_query(text: str, langs: Iterable[str]) -> list[str]:
    """The union of the analyses of ``text`` in each of ``langs``, order kept (corpus-free)."""
    seen: dict[str, None] = {}
    for lang in sorted(set(map(_lang, langs))) or [DEFAULT_LANG]:
        for token in analyze(text, lang):
            seen.setdefault(token, None)
    return list(seen)


def question_language(found: Sequence[str]) -> str:
    """The language whose stopwords the words ``found`` hold most ("" if none): a
    question's function words say its language better than its names do."""
    hits = function_words(found)
    return max(_LANGUAGES, key=lambda lang: hits[lang]) if hits else ""


def function_words(found: Sequence[str]) -> Counter:
    """How many of the words ``found`` are stopwords of each language."""
    return Counter(lang for word in found for lang in _LANGUAGES
                   if fold_accents(word) in _stopwords(lang))


def _stem(lang: str, surface: Sequence[str]) -> list[str]:
    return [fold_accents(s) for s in _stemmer(lang).stemWords(list(surface))]


@dataclass(frozen=True)
class Lexicon:
    """The language of every word of a corpus: the language whose passages use it most.

    ``word_langs`` maps each accent-folded word to a language code; ``langs`` are the
    corpus's languages, the one with most passages first. Passages of an unknown or
    unsupported language do not vote; a word only they use takes the first language."""

    word_langs: Mapping[str, str] = field(default_factory=dict)
    langs: tuple[str, ...] = (DEFAULT_LANG,)

    @classmethod
    def of(cls, passages: Sequence[Sequence[str]], langs: Sequence[str]) -> "Lexicon":
        """The lexicon of ``passages`` (each a list of `words`), labelled ``langs``."""
        share = Counter(lang for lang in langs if lang in _LANGUAGES)
        order = tuple(sorted(share, key=lambda lang: (-share[lang], lang))) or (DEFAULT_LANG,)
        counts: dict[str, Counter] = {lang: Counter() for lang in order}
        for passage, lang in zip(passages, langs):
            if lang in counts:
                counts[lang].update(passage)
        distinct: set[str] = set()
        for passage in passages:
            distinct.update(passage)
        folded = {w: fold_accents(w) for w in distinct}
        uses: dict[str, Counter] = {lang: Counter() for lang in order}
        for lang, counter in counts.items():
            for word, n in counter.items():
                uses[lang][folded[word]] += n
        # ties go to the language of more passages (max keeps the first of `order`)
        return cls({key: max(order, key=lambda lang: uses[lang][key])
                    for key in set(folded.values())}, order)

    def passage(self, text: str) -> list[str]:
        """The tokens of a passage of this corpus."""
        return self._tokens_of(words(text))

    def _tokens_of(self, passage: Sequence[str]) -> list[str]:
        table = self.table(set(passage))
        return [t for t in map(table.get, passage) if t]

    def table(self, surface: Iterable[str]) -> dict[str, str | None]:
        """Token of each surface word (None for a stopword), by the word's language."""
        by_lang: dict[str, list[str]] = {}
        table: dict[str, str | None] = {}
        for word in surface:
            key = fold_accents(word)
            lang = self.word_langs.get(key, self.langs[0])
            if key in _stopwords(lang):
                table[word] = None
            else:
                by_lang.setdefault(lang, []).append(word)
        for lang, group in by_lang.items():
            table.update(zip(group, _stem(lang, group)))
        return table

    def query(self, text: str, vocabulary: Collection[str] | None = None) -> list[str]:
        """The tokens of a question, one per word, each once, order kept.

        The question's own function words never count: its language is the one whose
        stopwords it holds most (`question_language`), and those are dropped. Every other
        word the corpus knows gets its corpus token. An unknown word is dropped if it is a
        stopword of a corpus language, else stemmed in the question's language, then in
        the languages of its known words (most first), then the corpus's; the first stem
        in ``vocabulary`` is taken (the first stem if no vocabulary is given)."""
        found = words(text)
        asked_in = question_language(found)
        own_stop = _stopwords(asked_in) if asked_in else frozenset()
        found = [w for w in found if fold_accents(w) not in own_stop]
        known = [w for w in found if fold_accents(w) in self.word_langs]
        table = self.table(known)
        votes = Counter(self.word_langs[fold_accents(w)] for w in known)
        order = sorted(self.langs, key=lambda lang: -votes[lang])  # stable: corpus order
        order = list(dict.fromkeys([asked_in, *order] if asked_in else order))
        tokens: dict[str, None] = {}
        for word in found:
            token = table[word] if word in table else self._unknown(word, order, vocabulary)
            if token:
                tokens.setdefault(token, None)
        return list(tokens)

    def _unknown(self, word: str, order: Sequence[str],
                 vocabulary: Collection[str] | None) -> str | None:
        key = fold_accents(word)
        if any(key in _stopwords(lang) for lang in self.langs):
            return None
        stems = [_stem(lang, [word])[0] for lang in order]
        if vocabulary is None:
            return stems[0]
        return next((s for s in stems if s in vocabulary), None)

    def to_json(self) -> dict:
        grouped: dict[str, list[str]] = {lang: [] for lang in self.langs}
        for key, lang in self.word_langs.items():
            grouped.setdefault(lang, []).append(key)
        return {"langs": list(self.langs),
                "words": {lang: " ".join(sorted(keys)) for lang, keys in grouped.items()}}

    @classmethod
    def from_json(cls, data: dict) -> "Lexicon":
        word_langs = {key: lang for lang, keys in data["words"].items() for key in keys.split()}
        return cls(word_langs, tuple(data["langs"]))


def corpus_tokens(texts: Sequence[str], langs: Sequence[str]) -> tuple[Lexicon, list[list[str]]]:
    """The lexicon of a corpus of ``texts`` labelled ``langs``, and each text's tokens (each
    distinct word stemmed once)."""
    passages = [words(t) for t in texts]
    lexicon = Lexicon.of(passages, langs)
    table = lexicon.table({w for passage in passages for w in passage})
    return lexicon, [[t for t in map(table.get, passage) if t] for passage in passages]
