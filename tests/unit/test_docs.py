"""The docs match the code: every setting is in the README table; messages are complete in both languages."""

from __future__ import annotations

from assistant.i18n import all_messages
from assistant.settings import Settings
from tests.conftest import REPO


def env_names() -> list[str]:
    names = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.append(alias.choices[0] if alias is not None else f"OPENBAAR_{name.upper()}")
    return names


def test_readme_starts_with_the_two_commands_and_documents_every_setting():
    readme = (REPO / "README.md").read_text()
    first_block = readme.split("```")[1]
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [
        ["make", "run"],
        ["make", "test"],
    ]
    missing = [name for name in env_names() if f"`{name}`" not in readme]
    assert not missing, f"settings missing from README: {missing}"


def test_every_message_has_dutch_and_english_with_the_same_placeholders():
    messages = all_messages()  # validates on load
    assert all(set(texts) >= {"nl", "en"} for texts in messages.values())
    assert "error.store_missing" in messages
