"""`openbaar serve` works from an installed package, not only from a source checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import REPO, SEED
from tests.integration.servers import OPENBAAR, openbaar_serve

PIP = [sys.executable, "-m", "pip"]


def test_serve_runs_from_an_installed_wheel(tmp_path, shared_cache):
    wheel_dir, site, source = tmp_path / "wheel", tmp_path / "site", tmp_path / "source"
    # Build from a copy of the tracked files: setuptools writes build/ into the source folder, never the checkout.
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        origin, target = REPO / name, source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_symlink():
            target.symlink_to(os.readlink(origin))
        elif origin.is_file():
            shutil.copyfile(origin, target)
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(source)], check=True, timeout=300
    )
    (wheel,) = wheel_dir.glob("openbaar-*.whl")
    subprocess.run(
        [*PIP, "install", "--no-deps", "-q", "--target", str(site), str(wheel)], check=True, timeout=300
    )
    work = tmp_path / "elsewhere"  # not the checkout: nothing there to fall back on
    work.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "OPENBAAR_STORE": str(work / "store"),
        "OPENBAAR_EMBEDDING_CACHE": str(shared_cache / "embeddings.sqlite"),
    }
    where = subprocess.run(
        [sys.executable, "-c", "import assistant; print(assistant.__file__)"],
        env=env, cwd=work, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(site)), where.stdout
    subprocess.run([*OPENBAAR, "ingest", str(SEED)], env=env, cwd=work, check=True, timeout=300)
    old = Path.cwd()
    os.chdir(work)
    try:
        with openbaar_serve(tmp_path / "serve.log", env=env) as base:
            assert httpx.get(f"{base}/", timeout=10).status_code == 200
            fonts = httpx.get(f"{base}/public/fonts/inter.css", timeout=10)
            assert fonts.status_code == 200 and "@font-face" in fonts.text
            answer = httpx.post(f"{base}/api/ask", json={"question": "Wat zei Jan Klink?"}, timeout=30).json()
            assert answer["status"] == "answered"
    finally:
        os.chdir(old)
    assert not (work / ".chainlit").exists() and not (work / ".files").exists()
    port = base.rsplit(":", 1)[1]
    assert (work / "var" / "run" / f"chat-{port}" / ".chainlit" / "config.toml").is_file()
