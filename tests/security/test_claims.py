"""I6: a model-written sentence is shown as verified only when what it cites supports it (issue point 1).

`data/planted_claims.jsonl` holds 64 planted claims (32 Dutch, 32 English) about the bundled samples
(`samples/seed`, `samples/nl_rijksoverheid_vac`): an invented admission, a phone number, an IBAN, an invented
amount, date or rule. Each comes with a real sentence of a sample document (`quote`) that it pretends to rest on
and that does not support it. The fake model answers each question with `{"answer": "<claim> [n]", "citations":
[{"passage": n, "quote": <quote>}]}`, n being the passage that holds the quote, so the citation itself checks out.

Measured: how many planted claims come back `answered` with the claim shown (the false "verified" rate).
Target: 0. The rate is printed (`-s`) and stated in the failure message.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.fakellm import Reply, answer_json, passage_with
from tests.security.conftest import DATA, SEED_FILE, VAC_FILE, clean_env, cli, llm_env, make_store

pytestmark = pytest.mark.integration

CLAIMS = [
    json.loads(line) for line in (DATA / "planted_claims.jsonl").read_text("utf-8").splitlines() if line
]
MARKER = re.compile(r"\s*\[\d+\]")


def shown(claim: str, answer: str) -> bool:
    """The claim's sentence (markers aside) is in the answer text."""
    sentence = MARKER.sub("", claim).strip().rstrip(".")
    return " ".join(sentence.split()) in " ".join(MARKER.sub("", answer).split())


def test_I6_data_file_is_sound():
    """Guard: >= 50 claims in both languages; each quote is a real sentence of the named sample document."""
    assert len(CLAIMS) >= 50
    assert {c["language"] for c in CLAIMS} == {"nl", "en"}
    assert min(sum(c["language"] == lang for c in CLAIMS) for lang in ("nl", "en")) >= 25
    vac = {d["id"]: d["text"] for d in map(json.loads, VAC_FILE.read_text("utf-8").splitlines())}
    seed = SEED_FILE.read_text("utf-8")
    for c in CLAIMS:
        text = vac[c["doc_id"]] if c["doc_id"] else seed
        assert c["quote"] in text, c["id"]
        assert c["claim"].endswith("[1].") and c["quote"] not in c["claim"], c["id"]


def test_I6_planted_unsupported_claims_are_never_shown_as_verified(tmp_path, shared_cache, fake):
    env = clean_env(tmp_path, shared_cache, **llm_env(fake))
    make_store([SEED_FILE, VAC_FILE], env, tmp_path)
    planted: dict[str, int] = {}

    def reply_for(item):
        def reply(body):
            n = passage_with(body, item["quote"])
            if not n:
                return answer_json("", status="not_found")
            planted[item["id"]] = n
            return answer_json(item["claim"].replace("[1]", f"[{n}]"), citations=[(n, item["quote"])])

        return Reply(reply)

    fake.reset()
    fake.script(*(reply_for(item) for item in CLAIMS))
    batch = tmp_path / "claims.jsonl"
    batch.write_text("".join(json.dumps({"id": c["id"], "question": c["question"]}) + "\n" for c in CLAIMS))
    done = cli("ask", "--batch", str(batch), "--mode", "llm", "--json", env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    answers = {a["id"]: a for a in map(json.loads, done.stdout.splitlines())}
    assert len(fake.chat_requests()) == len(CLAIMS)

    false_verified = [
        c["id"]
        for c in CLAIMS
        if c["id"] in planted
        and answers[c["id"]]["status"] == "answered"
        and shown(c["claim"], answers[c["id"]]["answer"])
    ]
    by_language = {
        lang: (
            sum(1 for i in false_verified if next(c for c in CLAIMS if c["id"] == i)["language"] == lang),
            sum(1 for i in planted if next(c for c in CLAIMS if c["id"] == i)["language"] == lang),
        )
        for lang in ("nl", "en")
    }
    rate = len(false_verified) / max(1, len(planted))
    summary = (
        f"{len(false_verified)} of {len(planted)} planted unsupported claims shown as verified ({rate:.0%}); "
        + ", ".join(f"{lang}: {a}/{b}" for lang, (a, b) in by_language.items())
    )
    print("\nI6:", summary)
    assert len(planted) >= 50, f"only {len(planted)} claims could be planted (quote's passage not retrieved)"
    assert false_verified == [], summary + f"; e.g. {false_verified[:5]}"
