"""The public CLI contracts of `search`, `ask` and `eval` on a real store built from the seed article."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import run_cli

ASK_KEYS = {
    "question",
    "standalone_question",
    "status",
    "answer",
    "language",
    "citations",
    "mode",
    "timings_ms",
}
CITATION_KEYS = {"n", "doc_id", "chunk_id", "title", "date", "speaker", "url", "quote"}
SEARCH_KEYS = {"rank", "score", "doc_id", "chunk_id", "title", "date", "speaker", "url", "text"}


@pytest.fixture
def seeded(tmp_path, seed_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(seed_path, docs)
    (docs / "begroting.txt").write_text(
        "date 2024-09-17\nDe minister van Financiën presenteerde op Prinsjesdag de begroting voor 2025. "
        "Het kabinet verwacht dat de koopkracht stijgt.",
        encoding="utf-8",
    )
    result = run_cli("ingest", str(docs))
    assert result.returncode == 0, result.stderr
    return docs


def ask_json(*args: str) -> dict:
    result = run_cli("ask", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_ask_json_has_the_documented_fields_and_verified_quotes(seeded):
    answer = ask_json("Welke landen noemde de minister?")
    assert set(answer) >= ASK_KEYS
    assert answer["mode"] == "extractive" and answer["language"] == "nl"
    assert answer["citations"], answer
    text = (seeded / "2023-06-migratiepartnerschappen.txt").read_text()
    for citation in answer["citations"]:
        assert set(citation) >= CITATION_KEYS
        assert " ".join(citation["quote"].split()) in " ".join(text.split()).replace(
            "ge├»nformeerd", "geïnformeerd"
        )
        assert f"[{citation['n']}]" in answer["answer"]


def test_ask_text_output_lists_sources(seeded):
    result = run_cli("ask", "Wat presenteerde de minister van Financiën?")
    assert result.returncode == 0, result.stderr
    assert "Bronnen:" in result.stdout and "[1]" in result.stdout  # the heading in the answer's language
    assert "status: answered" in result.stderr


def test_ask_batch_writes_one_answer_per_line_with_its_id(seeded, tmp_path):
    batch = tmp_path / "questions.jsonl"
    batch.write_text(
        "\n".join(
            json.dumps(item)
            for item in [
                {"id": "q1", "question": "Wat presenteerde de minister van Financiën?"},
                {"id": "q2", "question": "Wie sprak over migratiepartnerschappen?", "history": []},
                {"id": "q3", "question": "   "},
            ]
        ),
        encoding="utf-8",
    )
    result = run_cli("ask", "--batch", str(batch), "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["q1", "q2", "q3"]
    assert all(set(line) >= ASK_KEYS for line in lines)
    assert lines[2]["status"] == "refused" and lines[2]["citations"] == []


def test_search_json_contract_and_filters(seeded):
    result = run_cli("search", "begroting koopkracht", "--k", "3", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["query"] == "begroting koopkracht"
    assert data["results"] and all(set(r) >= SEARCH_KEYS for r in data["results"])
    assert data["results"][0]["doc_id"] == "begroting.txt"
    assert [r["rank"] for r in data["results"]] == list(range(1, len(data["results"]) + 1))
    only_2023 = json.loads(run_cli("search", "begroting koopkracht", "--until", "2023-12", "--json").stdout)
    assert {r["date"] for r in only_2023["results"]} <= {"2023-06"}
    bad = run_cli("search", "begroting", "--since", "gisteren")
    assert bad.returncode == 2 and "Invalid date" in bad.stderr and "Traceback" not in bad.stderr


def test_llm_mode_without_configuration_is_a_clear_error(seeded):
    result = run_cli("ask", "Welke landen?", "--mode", "llm")
    assert result.returncode == 2
    assert "No language model is configured" in result.stderr


def test_eval_scores_retrieval_and_answer_files(seeded, tmp_path):
    retrieval = tmp_path / "retrieval.jsonl"
    retrieval.write_text(
        json.dumps({"question": "Wat gebeurde er op Prinsjesdag?", "doc_id": "begroting.txt"})
        + "\n"
        + json.dumps(
            {"question": "Welke rol speelt Marokko?", "doc_id": "2023-06-migratiepartnerschappen.txt"}
        ),
        encoding="utf-8",
    )
    scores = json.loads(run_cli("eval", str(retrieval), "--json").stdout)
    assert scores["kind"] == "retrieval" and scores["questions"] == 2
    assert scores["recall@1"] == 1.0 and scores["mrr@10"] == 1.0

    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        json.dumps(
            {
                "id": "x1",
                "question": "Wat presenteerde de minister van Financiën op Prinsjesdag?",
                "expect_status": "answered",
                "must_mention": [["begroting"]],
            }
        )
        + "\n"
        + json.dumps(
            {
                "id": "x2",
                "question": "Hoeveel kost een nieuwe kerncentrale?",
                "expect_status": "not_found",
                "must_mention": [],
            }
        ),
        encoding="utf-8",
    )
    result = run_cli("eval", str(answers))
    assert result.returncode == 0, result.stderr
    assert "✓ x1" in result.stdout and "✓ x2" in result.stdout
    data = json.loads(run_cli("eval", str(answers), "--json").stdout)
    assert data["status_accuracy"] == 1.0 and data["citation_validity"] == 1.0

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"foo": 1}\n', encoding="utf-8")
    result = run_cli("eval", str(bad))
    assert result.returncode == 2 and "unknown format" in result.stderr


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        (["ask"], "Usage: openbaar ask"),
        (["search", "--k", "0", "paspoort"], "Usage: openbaar search"),
        (["frobnicate"], "Usage: openbaar "),
    ],
)
def test_a_typing_mistake_is_a_usage_error(args, usage, capsys):
    from assistant.interfaces.cli import main

    assert main(args) == 2
    err = capsys.readouterr().err
    assert usage in err and "unexpected" not in err.lower() and "Traceback" not in err


def test_the_sources_heading_follows_the_answer_not_the_terminal(capsys):
    from assistant.answer.base import Answer, Citation
    from assistant.interfaces.cli import render

    citation = Citation(1, "d", "d:0", "Paspoort", "2024", None, None, "Het paspoort is 10 jaar geldig.")
    dutch = Answer("q", "q", "answered", "“Het paspoort is 10 jaar geldig.” [1]", "nl", [citation])
    render.answer(dutch, "en")
    out = capsys.readouterr().out.splitlines()
    assert "Bronnen:" in out and "Sources:" not in out
