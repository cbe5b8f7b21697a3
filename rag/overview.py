"""Overview: a question about what the articles say — as a whole ("What is the article
about?", "Riassumi l'articolo") or of one subject ("What does the article say about
Jassy?", "Cosa dice l'articolo su Chanos?") — is answered from the sentences that say it,
not from those that most resemble the question (none do, or too little: Jassy's quote
is about AWS, not about "the article").

Of one subject, the evidence is every retrieved sentence that names it (each of its words,
as `rag.names.speaks_of` reads a name), those closest to the subject first; when none
does, the question is answered as any other.

An article's gist is taken from its first passages, where news puts it: among their
sentences (headline questions, short lines and text addressing the assistant left out, as
for any evidence: `rag.evidence.candidates`), those closest to the centroid of them all —
a newsletter prompt or a photo credit is far from it — and to the article's title, in
the article's order.
The articles are the retrieved ones, best first, at most `MAX_ARTICLES`; a question naming
something ("Summarize the article about Tesla") keeps only articles that name it. The
model then writes the overview from these items, and every claim is checked as usual.

    >>> asks_overview("Di cosa parla l'articolo?"), asks_overview("Summarize the article.")
    (True, True)
    >>> asks_overview("What does the article say about Jassy?")
    False
    >>> asked_about("What does the article say about Jassy?"), asked_about("Parlami di AWS")
    ('Jassy', 'AWS')
"""

from __future__ import annotations

import re
from typing import Collection, Sequence

import numpy as np

from .embed import Embedder
from .evidence import Candidate, Evidence, EvidenceSet, candidates
from .lexical import fold_accents, function_words
from .names import speaks_of
from .retrieve import Hit
from .store import Store

# The gist is sought in an article's first passages, and in this many articles at most.
LEAD_PASSAGES = 6
MAX_ARTICLES = 2

_TEXT = (r"(?:article|articles|story|stories|piece|news|text|report|"
         r"articol[oi]|notizi[ae]|pezzo|testo|servizio)")
_THE = r"(?:the|this|these|that|l['’]\s*|il|lo|la|gli|i|le|questo|questa|questi|queste)"
_OVERVIEW = re.compile(
    rf"^\W*(?:please\s+|per\s+favore\s+)?(?:summari[sz]e|sum\s+up|riassumi|sintetizza|"
    rf"fammi\s+un\s+riassunto|give\s+me\s+a\s+summary)\b(?:\s+(?:of\s+|di\s+|dell['’]\s*|"
    rf"degli\s+)?{_THE}?\s*{_TEXT}\b|\s+it\b|\W*$)|"
    rf"\bwhat(?:['’]s|\s+is|\s+are|\s+was|\s+were)\s+{_THE}\s*{_TEXT}\s+(?:about|on)\W*$|"
    rf"\bwhat\s+(?:does|do|did)\s+{_THE}\s*{_TEXT}\s+(?:say|cover|discuss|talk\s+about|"
    rf"tell\s+(?:me|us))\W*$|"
    rf"\bdi\s+(?:che\s+)?cosa\s+(?:parla|parlano|tratta|trattano)\s+{_THE}\s*{_TEXT}\b|"
    rf"\b(?:cosa\s+dice|cosa\s+dicono)\s+{_THE}?\s*{_TEXT}\W*$|"
    rf"\b(?:summary|gist|main\s+points|key\s+points|overview|topic|riassunto|sintesi|"
    rf"punti\s+(?:principali|chiave)|argomento|tema)\s+(?:of|di|del|della|dell['’]\s*|degli|"
    rf"dei)\s*{_THE}?\s*{_TEXT}\b", re.IGNORECASE)


_OF = (r"(?:about|of|on|su|sul|sulla|sullo|sui|sugli|sulle|sull['’]\s*|di|del|della|dello|"
       r"dei|degli|delle|dell['’]\s*|riguardo\s+a(?:l|lla|i|gli|ll['’])?)")
_ABOUT = re.compile(
    rf"\bwhat\s+(?:does|do|did)\s+(?:{_THE}\s*{_TEXT}|it|they)\s+(?:say|tell\s+(?:me|us)|"
    rf"report|write)\s+(?:about|of|on)\s+(.+?)\W*$|"
    rf"\b(?:tell\s+me|what\s+do\s+(?:we|you)\s+know|what\s+is\s+(?:said|known))\s+about\s+"
    rf"(.+?)\W*$|"
    rf"\b(?:che\s+)?cosa\s+(?:dice|dicono)\s+{_THE}?\s*{_TEXT}\s+{_OF}\s*(.+?)\W*$|"
    rf"^\W*(?:parlami|dimmi\s+tutto)\s+{_OF}\s*(.+?)\W*$|"
    rf"\b(?:che\s+)?cosa\s+(?:si\s+dice|sappiamo)\s+{_OF}\s*(.+?)\W*$", re.IGNORECASE)


def asks_overview(question: str) -> bool:
    """Whether ``question`` asks what the articles say as a whole."""
    return bool(_OVERVIEW.search(question.strip()))


def asked_about(question: str) -> str:
    """The subject ``question`` asks everything the articles say of, or ""."""
    found = _ABOUT.search(question.strip())
    return next((g.strip() for g in found.groups() if g), "") if found else ""


def overview_evidence(question: str, hits: Sequence[Hit], store: Store, embedder: Embedder,
                      *, n: int, subject: Collection[str] = (), lang: str = "") -> EvidenceSet:
    """For a question asking what the articles say (`asks_overview`, `asked_about`), the
    ``n`` sentences that say it, numbered; else, or when nothing names the subject asked
    about, no evidence. Each item scores 1.0: every one answers such a question as well as
    any other."""
    if asks_overview(question):
        articles = list(dict.fromkeys(h.chunk.article_id for h in hits))[:MAX_ARTICLES]
        chosen = [c for i, article_id in enumerate(articles)
                  for c in _gist(article_id, store, embedder, subject,
                                 n // len(articles) + (i < n % len(articles)), lang)]
    elif about := asked_about(question):
        chosen = _naming(about, candidates(hits, store, subject, lang=lang), embedder, n)
    else:
        chosen = []
    return EvidenceSet(tuple(Evidence(number, c.chunk, c.start, c.end, c.text, 1.0)
                             for number, c in enumerate(chosen, start=1)))


def _naming(about: str, found: list[Candidate], embedder: Embedder, n: int) -> list[Candidate]:
    """The ``n`` sentences of ``found`` naming each word of ``about``, closest to it first."""
    words = [w for w in re.findall(r"\w{3,}", fold_accents(about).casefold())
             if not function_words([w])]
    naming = [c for c in found if words and all(speaks_of({w}, c.text) for w in words)]
    if not naming:
        return []
    vectors = embedder.embed([c.text for c in naming], kind="document",
                             titles=[c.chunk.title for c in naming])
    closeness = vectors @ embedder.embed([about], kind="query")[0]
    return [naming[k] for k in np.argsort(-closeness, kind="stable")[:n]]


def _gist(article_id: str, store: Store, embedder: Embedder, subject: Collection[str],
          n: int, lang: str = "") -> list[Candidate]:
    chunks = store.chunks([f"{article_id}:{i}" for i in range(LEAD_PASSAGES)])
    lead = candidates([Hit(c, 1, 0.0, 0.0) for c in chunks], store, subject, lang=lang)
    if not lead or n <= 0:
        return []
    vectors = embedder.embed([c.text for c in lead], kind="document",
                             titles=[c.chunk.title for c in lead])
    centroid = vectors.mean(axis=0)
    closeness = vectors @ (centroid / (np.linalg.norm(centroid) or 1.0))
    title = lead[0].chunk.title
    if title:
        closeness = (closeness + vectors @ embedder.embed([title], kind="query")[0]) / 2
    return [lead[k] for k in sorted(np.argsort(-closeness, kind="stable")[:n])]
