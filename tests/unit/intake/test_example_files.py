"""The example folders shared by the answer, risk and scope models."""

from pathlib import Path

import pytest

from bot.intake.example_files import fingerprint, read_mapping, yaml_files


def test_only_yml_files_in_name_order_and_none_for_a_missing_folder(tmp_path: Path) -> None:
    for name in ("b.yml", "a.yml", "notes.txt", "c.yaml"):
        (tmp_path / name).write_text("x: 1\n")
    assert [p.name for p in yaml_files(tmp_path)] == ["a.yml", "b.yml"]
    assert yaml_files(tmp_path / "missing") == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a: [unclosed", "invalid YAML"),
        ("- a\n- b\n", "must be a mapping"),
        ("just text", "mapping"),
    ],
)
def test_a_bad_file_is_named_in_the_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "broken.yml"
    path.write_text(content)
    with pytest.raises(ValueError, match=rf"broken\.yml: .*{message}"):
        read_mapping(path)


def test_an_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    path = tmp_path / "empty.yml"
    path.write_text("")
    assert read_mapping(path) == {}


def test_the_fingerprint_changes_with_a_name_or_a_byte(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text("x: 1\n")
    first = fingerprint(tmp_path)
    path.rename(tmp_path / "b.yml")
    renamed = fingerprint(tmp_path)
    (tmp_path / "b.yml").write_text("x: 2\n")
    assert len({first, renamed, fingerprint(tmp_path)}) == 3
