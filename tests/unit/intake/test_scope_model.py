"""The scope model's look-alike files and its training on in-scope and out-of-scope texts."""

from pathlib import Path

import pytest
import yaml

from bot.core.paths import DATA
from bot.intake.example_files import fingerprint
from bot.intake.scope_model import (
    SCOPE_DIR,
    ScopeModel,
    load_scope_examples,
    parse_scope_file,
)


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_the_shipped_look_alikes_load_and_are_distinct() -> None:
    examples = load_scope_examples(SCOPE_DIR)
    assert len(examples) >= 200
    assert len(set(examples)) == len(examples)


def test_a_file_gives_its_stripped_texts_and_skips_blanks(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yml", 'examples:\n  - " store hours? "\n  - ""\n  - "a ride"\n')
    assert parse_scope_file(path) == ["store hours?", "a ride"]


@pytest.mark.parametrize(
    "content",
    ["examples: [unclosed", "examples: just one text", "examples:\n  - 3\n", "- a list\n", ""],
)
def test_a_malformed_file_names_itself(tmp_path: Path, content: str) -> None:
    with pytest.raises(ValueError, match=r"bad\.yml"):
        parse_scope_file(write(tmp_path, "bad.yml", content))


def test_files_are_read_in_name_order_and_a_missing_folder_is_empty(tmp_path: Path) -> None:
    write(tmp_path, "b.yml", 'examples: ["second"]\n')
    write(tmp_path, "a.yml", 'examples: ["first"]\n')
    assert load_scope_examples(tmp_path) == ["first", "second"]
    assert load_scope_examples(tmp_path / "missing") == []


def test_the_fingerprint_follows_the_content(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yml", 'examples: ["first"]\n')
    before = fingerprint(tmp_path)
    path.write_text('examples: ["changed"]\n', encoding="utf-8")
    assert fingerprint(tmp_path) != before


def test_training_needs_both_sides() -> None:
    with pytest.raises(ValueError, match="in-scope and out-of-scope"):
        ScopeModel.train([], ["how much is a second opinion"])


def in_scope_examples(limit: int) -> list[str]:
    """Examples of the firm's own intents from the NLU training data."""
    texts = []
    for path in sorted((DATA / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if block.get("intent") not in (None, "out_of_scope"):
                lines = str(block.get("examples", "")).splitlines()
                texts += [line.strip()[2:] for line in lines if line.strip().startswith("- ")][:12]
    return texts[:limit]


def test_trained_on_the_look_alikes_it_tells_a_pet_from_a_patient() -> None:
    model = ScopeModel.train(load_scope_examples(SCOPE_DIR), in_scope_examples(600))
    assert model.out_of_scope("my parrot has a sore foot, could one of your doctors check it") > 0.5
    assert model.out_of_scope("can one of your doctors check my father's heart surgery plan") < 0.5
