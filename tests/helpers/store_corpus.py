"""Test helper: a small deterministic corpus as store `Entry`s (FakeEmbedder vectors).

Six articles in Italian and English with distinct words, dates (one undated), sources and
authors; the long one is chunked into several passages; every passage has sentence
vectors. `entries()` builds them; `manifest()` is the matching store manifest.
"""

from __future__ import annotations

import numpy as np

from rag.chunking import chunk_article, split_sentences
from rag.corpus import Article
from rag.store import Entry, Manifest, SentenceVectors
from tests.fakes import FakeEmbedder

CHUNK_TOKENS, CHUNK_OVERLAP = 40, 8

ARTICLES = (
    Article(id="a-harbour", title="Harbour cranes", lang="en", date="2024-03-02",
            source="Port Gazette", author="Jane Smith, Bob Lee", url="https://example.org/1",
            text="The harbour authority installed four electric cranes in Genoa. "
                 "Dockworkers said the cranes halve the unloading time of container ships."),
    Article(id="b-vendemmia", title="Vendemmia in anticipo", lang="it", date="2024-08-20",
            source="Corriere Agricolo", author="Giulia Bianchi",
            text="La vendemmia è iniziata con due settimane di anticipo in Toscana. "
                 "I viticoltori temono la siccità e il caldo di agosto."),
    Article(id="c-budget", title="City budget", lang="en", date="2023-11-15",
            source="port gazette", author="Bob Lee",
            text="The city council approved a budget of 250 million euros. "
                 "Most of the money goes to schools, buses and the new library."),
    Article(id="d-treno", title="Treni regionali", lang="it", date="",
            source="Corriere Agricolo", author="",
            text="I treni regionali saranno sostituiti da autobus per lavori sulla linea. "
                 "Pendolari e studenti protestano per i ritardi."),
    Article(id="e-telescope", title="Telescope", lang="en", date="2024-12-31",
            source="Science Weekly", author="Ada Moore",
            text="Astronomers pointed the new telescope at a distant galaxy. "
                 "The images show young stars forming in clouds of gas. "
                 "The team will publish the data next spring. "
                 "A second telescope joins the survey in Chile. "
                 "Funding for the survey comes from nine countries. "
                 "The galaxy lies eleven billion light years away. "
                 "Students will help classify the images online."),
    Article(id="f-formaggio", title="Formaggi di montagna", lang="it", date="2024-03-02",
            source="Gusto", author="Marco Neri",
            text="Il formaggio di malga si produce solo d'estate in alta quota. "
                 "Le mucche pascolano sui prati alpini e il latte si lavora a mano."),
)


def manifest(sentence_vectors: bool = True, embedder: str = FakeEmbedder.name) -> Manifest:
    return Manifest(embedder=embedder, dim=FakeEmbedder().dim, chunk_tokens=CHUNK_TOKENS,
                    chunk_overlap=CHUNK_OVERLAP, sentence_vectors=sentence_vectors)


def entry(article: Article, embedder: FakeEmbedder | None = None,
          sentence_vectors: bool = True) -> Entry:
    """``article`` chunked and embedded as the indexer does (sentences in article offsets)."""
    embedder = embedder or FakeEmbedder()
    chunks = tuple(chunk_article(article, embedder.count_tokens, CHUNK_TOKENS, CHUNK_OVERLAP))
    vectors = embedder.embed([c.text for c in chunks])
    sentences = ()
    if sentence_vectors:
        found = []
        for chunk in chunks:
            spans = split_sentences(chunk.text, chunk.lang)
            found.append(SentenceVectors(
                chunk.id, tuple((chunk.start + a, chunk.start + b) for a, b in spans),
                embedder.embed([chunk.text[a:b] for a, b in spans]) if spans
                else np.zeros((0, embedder.dim), np.float32)))
        sentences = tuple(found)
    return Entry(article, chunks, vectors, sentences)


def entries(sentence_vectors: bool = True) -> tuple[Entry, ...]:
    embedder = FakeEmbedder()
    return tuple(entry(a, embedder, sentence_vectors) for a in ARTICLES)
