"""`rag eval`: metrics, the dataset loaders, and small end-to-end runs with fakes, single
and mixed-language."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag import evaluate
from rag.assistant import Assistant
from rag.chunking import Chunk
from rag.evaldata import (Dataset, Document, Question, combine, load_jsonl, load_realtimeqa,
                          load_squad, sample)
from rag.evalmetrics import (contains_gold, document_ranking, recall_at, reciprocal_rank,
                             token_f1)
from rag.retrieve import Hit
from rag.settings import Settings
from tests.fakes import FakeEmbedder, FakeGenerator


# --------------------------------------------------------------------------- metrics

def test_recall_and_mrr_on_known_rankings():
    ranking = ["d3", "d1", "d7", "d2", "d9", "d4", "d5", "d6", "d8", "d0", "d11"]
    assert recall_at(ranking, ["d3"], 1) == 1.0
    assert recall_at(ranking, ["d1"], 1) == 0.0
    assert recall_at(ranking, ["d1"], 5) == 1.0
    assert recall_at(ranking, ["d4"], 5) == 0.0
    assert recall_at(ranking, ["d0"], 10) == 1.0
    assert recall_at(ranking, ["d11"], 10) == 0.0
    assert recall_at(ranking, ["zz", "d2"], 5) == 1.0  # any gold document counts
    assert reciprocal_rank(ranking, ["d3"]) == 1.0
    assert reciprocal_rank(ranking, ["d2"]) == 0.25
    assert reciprocal_rank(ranking, ["d9", "d2"]) == 0.25  # the first gold found
    assert reciprocal_rank(ranking, ["d11"]) == 0.0  # rank 11 is beyond MRR@10
    assert reciprocal_rank([], ["d1"]) == 0.0


def _hit(article_id: str, rank: int) -> Hit:
    chunk = Chunk(id=f"{article_id}:{rank}", article_id=article_id, index=rank, text="x",
                  start=0, end=1)
    return Hit(chunk, rank, 1.0 / rank, 0.5)


def test_document_ranking_maps_chunks_and_dedupes_in_rank_order():
    doc_ids = {"a1": ("docA",), "a2": ("docB", "docB2"), "a3": ("docC",)}
    hits = [_hit("a2", 1), _hit("a1", 2), _hit("a2", 3), _hit("zz", 4), _hit("a3", 5)]
    assert document_ranking(hits, doc_ids) == ["docB", "docB2", "docA", "docC"]


def test_answer_scores():
    assert token_f1("Il 12 ottobre 1973", "ottobre 1973") == pytest.approx(0.8)
    assert token_f1("Squid Game", "“Squid Game”") == 1.0
    assert token_f1("nothing", "Squid Game") == 0.0
    assert contains_gold("The winner was “Squid Game” [1].", ["Squid Game"]) == 1.0
    assert contains_gold("Nel 1973 la crisi", ["ottobre 1973", "1973"]) == 1.0
    assert contains_gold("Nel 19734", ["1973"]) == 0.0  # whole tokens only
    assert contains_gold("Perché è così", ["perche"]) == 1.0  # accents folded
    assert contains_gold("It was 23.6°C, a record.", ["23.6"]) == 1.0  # a symbol parts words
    assert contains_gold("Stanzierà €10 milioni.", ["10 milioni"]) == 1.0
    assert contains_gold("Costa 1.450 euro", ["1.450"]) == 1.0


# --------------------------------------------------------------------------- loaders

SQUAD = {"data": [
    {"title": "Crisi_energetica", "paragraphs": [
        {"context": "La crisi petrolifera iniziò nell'ottobre 1973.",
         "qas": [{"id": "q1", "question": "Quando iniziò la crisi?",
                  "answers": [{"text": "ottobre 1973", "answer_start": 0},
                              {"text": "ottobre 1973", "answer_start": 0}]}]},
        {"context": "L'OPEC aumentò i prezzi.", "qas": []}]},
    {"title": "Amazzonia", "paragraphs": [
        {"context": "La foresta amazzonica copre gran parte del Brasile.",
         "qas": [{"id": "q2", "question": "Dove si trova la foresta amazzonica?",
                  "answers": [{"text": "Brasile", "answer_start": 0}]}]}]},
]}


def test_load_squad_slices_articles_and_keeps_ids(tmp_path: Path):
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(SQUAD), encoding="utf-8")
    full = load_squad(path)
    assert [d.id for d in full.documents] == ["0-0", "0-1", "1-0"]
    assert full.documents[0].title == "Crisi energetica" and full.documents[0].lang == "it"
    assert full.questions[0] == Question("Quando iniziò la crisi?", ("0-0",), ("ottobre 1973",),
                                         id="q1")
    part = load_squad(path, "1:2")
    assert [d.id for d in part.documents] == ["1-0"]
    assert [q.gold for q in part.questions] == [("1-0",)]
    assert part.name == "squad-squad-1-2"


def test_load_jsonl_pair(tmp_path: Path):
    corpus, questions = tmp_path / "c.jsonl", tmp_path / "q.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "text": "Alpha text.", "title": "A", "date": "2022/06/17", "source": "CNN"},
        {"id": "b", "text": ""},  # no text: not a document
        {"id": 3, "text": "Gamma.", "authors": ["X"]},
    ]) + "\n")
    questions.write_text("\n".join(json.dumps(r) for r in [
        {"question": "alpha?", "gold": ["a"], "answers": ["Alpha"], "date": "2022-06-20"},
        {"question": "gamma?", "gold": "3"},
    ]) + "\n")
    data = load_jsonl(corpus, questions)
    assert [d.id for d in data.documents] == ["a", "3"]
    assert data.documents[0].date == "2022-06-17" and data.documents[0].source == "CNN"
    assert data.questions[0] == Question("alpha?", ("a",), ("Alpha",), "2022-06-20", "0")
    assert data.questions[1].gold == ("3",)


def test_load_realtimeqa_maps_fields_and_weeks(tmp_path: Path):
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"url": "https://www.cnn.com/a", "title": None, "text": "Squid Game returns.",
         "publish_date": "2022/06/12", "authors": ["Jane Doe"]},
        {"url": "https://edition.cnn.com/b", "title": "B", "text": None, "publish_date": None},
    ]) + "\n")
    (tmp_path / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"question_id": "1", "question_date": "2022/06/16", "question_sentence": "Which show?",
         "week": "20220617", "gold_doc_urls": ["https://www.cnn.com/a"],
         "answer_text": ["“Squid Game”"]},
        {"question_id": "2", "question_date": "2022/09/08", "question_sentence": "Later?",
         "week": "20220909", "gold_doc_urls": ["https://www.cnn.com/a"], "answer_text": ["x"]},
        {"question_id": "3", "question_date": "2022/06/16", "question_sentence": "No gold?",
         "week": "20220617", "gold_doc_urls": [], "answer_text": ["y"]},
    ]) + "\n")
    data = load_realtimeqa(tmp_path, "20220617:20220902")
    assert [d.id for d in data.documents] == ["https://www.cnn.com/a"]
    doc = data.documents[0]
    assert (doc.date, doc.source, doc.author, doc.lang) == ("2022-06-12", "cnn.com", "Jane Doe", "en")
    assert [q.id for q in data.questions] == ["1"]
    assert data.questions[0].date == "2022-06-16"
    assert data.questions[0].answers == ("“Squid Game”",)
    assert len(load_realtimeqa(tmp_path).questions) == 2
    sampled = load_realtimeqa(tmp_path, "20220617:20220902", articles=1)
    assert sampled.name == "realtimeqa-20220617-20220902-1"
    assert [d.id for d in sampled.documents] == ["https://www.cnn.com/a"]


def test_sample_keeps_every_gold_document_and_is_deterministic():
    documents = tuple(Document(f"d{n}", f"text {n}") for n in range(20))
    data = Dataset("news", documents, (Question("q?", ("d3", "d17")),))
    part = sample(data, 5)
    ids = [d.id for d in part.documents]
    assert len(ids) == 5 and {"d3", "d17"} <= set(ids)
    assert ids == [d.id for d in sample(data, 5).documents]  # same sample every time
    assert ids == sorted(ids, key=lambda i: int(i[1:]))  # corpus order kept
    assert part.name == "news-5" and part.questions == data.questions
    assert {d.id for d in sample(data, 1).documents} == {"d3", "d17"}  # gold always kept


def test_combine_puts_documents_together_without_questions():
    one = Dataset("it", (Document("a", "uno"),), (Question("?", ("a",)),))
    two = Dataset("en", (Document("b", "two"), Document("a", "uno")), ())
    both = combine([one, two])
    assert both.name == "mixed-it+en" and [d.id for d in both.documents] == ["a", "b"]
    assert both.questions == ()
    with pytest.raises(ValueError, match="'a'"):
        combine([one, Dataset("x", (Document("a", "other"),), ())])


# --------------------------------------------------------------------------- end to end

NEWS = Dataset("news", (
    Document("harbour", "The harbour of Bari reopened after the storm damaged the piers.",
             title="Bari harbour", date="2022-06-10", source="Gazzetta", lang="en"),
    Document("wheat", "Wheat prices rose sharply as exports from the Black Sea stalled.",
             title="Wheat", date="2022-06-11", source="Reuters", lang="en"),
    Document("tesla", "Tesla may enter the data center business, a job listing suggests.",
             title="Tesla", date="2022-06-12", source="Electrek", lang="en"),
    Document("harbour-new", "The harbour of Bari reopened again after a second storm hit.",
             title="Bari harbour again", date="2022-07-20", source="Gazzetta", lang="en"),
), (
    Question("When did the harbour of Bari reopen after the storm?", ("harbour",),
             ("after the storm",), date="2022-06-15"),
    Question("Why did wheat prices rise?", ("wheat",), ("exports",)),
    Question("Which company may enter the data center business?", ("tesla",), ("Tesla",)),
    Question("A question whose gold has no text", ("missing",)),
))


def _assistant(tmp_path: Path, **overrides) -> Assistant:
    overrides = {"index_dir": tmp_path / "eval-index", **overrides}
    settings = Settings(home=tmp_path / "home", **overrides)
    return Assistant(settings, embedder=FakeEmbedder(), generator=FakeGenerator())


def test_evaluate_all_modes_and_incremental_rerun(tmp_path: Path):
    assistant = _assistant(tmp_path)
    report = evaluate.evaluate(assistant, NEWS, modes=["hybrid", "dense", "keyword"])
    assert report["n_questions"] == 3 and report["questions_without_gold_text"] == 1
    assert [r["mode"] for r in report["runs"]] == ["hybrid", "dense", "keyword"]
    for run in report["runs"]:
        assert run["recall@10"] == 1.0 and run["recall@5"] == 1.0
        assert 0 < run["mrr@10"] <= 1 and run["recall@1"] <= run["recall@5"]
        assert set(run["timings"]) >= {"retrieve_ms", "first_search_ms"}
    assert report["index"]["chunks_embedded"] == 4
    assert report["index"]["documents"] == 4
    again = evaluate.evaluate(_assistant(tmp_path), NEWS, modes=["hybrid"])
    assert again["index"]["chunks_embedded"] == 0  # nothing embedded the second time
    assert again["recall@5"] == report["runs"][0]["recall@5"]


def test_evaluate_question_dates_filter_out_later_articles(tmp_path: Path):
    question = Question("When did the harbour of Bari reopen again after a second storm?",
                        ("harbour",), date="2022-06-15")
    data = Dataset("news", NEWS.documents, (question,))
    report = evaluate.evaluate(_assistant(tmp_path), data, modes=["dense"],
                               dates=["off", "filter"])
    off, filtered = report["runs"]
    assert off["recall@1"] == 0.0   # the later, more similar article comes first
    assert filtered["recall@1"] == 1.0 and filtered["dates"] == "filter"


def test_evaluate_with_answers(tmp_path: Path):
    report = evaluate.evaluate(_assistant(tmp_path, min_evidence=0.0, verify=False), NEWS,
                               modes=["hybrid"], answers=True, limit=2)
    assert report["n_questions"] == 2
    assert {"contains_gold", "f1", "abstention_rate"} <= set(report)
    assert report["contains_gold"] == 1.0 and report["abstention_rate"] == 0.0
    assert "generate_ms" in report["timings"]
    assert "contains_gold" in evaluate.format_table(report)


def test_cli_eval_jsonl(tmp_path: Path, monkeypatch):
    from rag import parts as assistant_module
    from rag.cli import cli
    monkeypatch.setattr(assistant_module, "build_embedder", lambda settings: FakeEmbedder())
    corpus, questions = tmp_path / "c.jsonl", tmp_path / "q.jsonl"
    corpus.write_text("".join(json.dumps({"id": d.id, "text": d.text, "title": d.title,
                                          "date": d.date, "lang": "en"}) + "\n"
                              for d in NEWS.documents))
    questions.write_text("".join(json.dumps({"question": q.question, "gold": list(q.gold)}) + "\n"
                                 for q in NEWS.questions))
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "home"))
    args = ["eval", "--corpus", str(corpus), "--questions", str(questions), "--mode", "all"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"recall@1", "recall@5", "recall@10", "mrr@10", "n_questions", "mode",
            "timings"} <= set(report)
    assert report["index"]["dir"] == str(tmp_path / "home" / "eval" / "c")
    assert len(report["runs"]) == 3
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0 and "MRR@10" in table.output and "keyword" in table.output
    bad = CliRunner().invoke(cli, ["eval", "--corpus", str(corpus)])
    assert bad.exit_code == 2 and "go together" in bad.output


# --------------------------------------------------------------------------- mixed

ITALIAN = Dataset("notizie", (
    Document("porto", "Il porto di Bari ha riaperto dopo che la tempesta ha danneggiato i moli.",
             title="Porto di Bari", lang="it"),
    Document("grano", "Il prezzo del grano è salito perché le esportazioni dal Mar Nero si "
             "sono fermate.", title="Grano", lang="it"),
    Document("musei", "I musei civici restano aperti anche la domenica sera per tutta l'estate.",
             title="Musei", lang="it"),
), (
    Question("Perché è salito il prezzo del grano?", ("grano",)),
    Question("Quando restano aperti i musei civici?", ("musei",)),
))


def test_evaluate_mixed_measures_each_dataset_alone_and_together(tmp_path: Path):
    root = tmp_path / "eval"
    made = []

    def assistant_at(folder: Path) -> Assistant:
        made.append(folder)
        return _assistant(tmp_path, index_dir=folder)

    report = evaluate.evaluate_mixed(assistant_at, [ITALIAN, NEWS], root,
                                     modes=["keyword", "dense"])
    assert set(made) == {root / "mixed-notizie+news", root / "notizie", root / "news"}
    assert report["mixed"]["documents"] == 7
    assert [p["dataset"] for p in report["datasets"]] == ["notizie", "news"]
    for pair in report["datasets"]:
        single, mixed = pair["single"], pair["mixed"]
        assert [r["mode"] for r in mixed["runs"]] == ["keyword", "dense"]
        assert single["n_questions"] == mixed["n_questions"] > 0
        assert single["index"]["documents"] < mixed["index"]["documents"] == 7
        for one, two in zip(single["runs"], mixed["runs"]):
            assert one["recall@10"] == two["recall@10"] == 1.0
    table = evaluate.format_mixed_table(report)
    assert "single/mixed" in table and "notizie" in table and "keyword" in table
    with pytest.raises(ValueError, match="two datasets"):
        evaluate.evaluate_mixed(assistant_at, [NEWS], root)


def test_cli_eval_mixed(tmp_path: Path, monkeypatch):
    from rag import parts as assistant_module
    from rag.cli import cli
    monkeypatch.setattr(assistant_module, "build_embedder", lambda settings: FakeEmbedder())
    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps(SQUAD), encoding="utf-8")
    rtqa = tmp_path / "rtqa"
    rtqa.mkdir()
    (rtqa / "corpus.jsonl").write_text("".join(
        json.dumps({"url": f"https://www.cnn.com/{d.id}", "title": d.title, "text": d.text,
                    "publish_date": d.date.replace("-", "/")}) + "\n"
        for d in NEWS.documents))
    (rtqa / "questions.jsonl").write_text("".join(
        json.dumps({"question_id": str(n), "question_sentence": q.question, "week": "20220617",
                    "gold_doc_urls": [f"https://www.cnn.com/{g}" for g in q.gold],
                    "question_date": "2022/06/16"}) + "\n"
        for n, q in enumerate(NEWS.questions)))
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "home"))
    args = ["eval", "--squad", str(squad), "--realtimeqa", str(rtqa), "--rtqa-articles", "3",
            "--mixed", "--mode", "keyword"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["mixed"]["documents"] == 3 + 3  # 3 paragraphs, 3 of the 4 articles
    assert [p["dataset"] for p in report["datasets"]] == ["squad-squad",
                                                          "realtimeqa-all-3"]
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0 and "single/mixed" in table.output
    alone = CliRunner().invoke(cli, args[:-3])
    assert alone.exit_code == 2 and "--mixed" in alone.output
    bad = CliRunner().invoke(cli, ["eval", "--squad", str(squad), "--rtqa-articles", "3"])
    assert bad.exit_code == 2 and "--rtqa-articles goes with --realtimeqa" in bad.output


def test_the_harness_uses_only_the_public_assistant_api():
    source = Path(evaluate.__file__).read_text(encoding="utf-8")
    assert not re.search(r"_index|_hit_json|Retriever\(|\.search\(.*vector=", source)
