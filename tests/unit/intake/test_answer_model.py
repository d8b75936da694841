"""The answer model's data, text handling and sentence encoder (no Rasa training needed)."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.intake.answer_model import (
    NONE,
    Reading,
    by_position,
    check_labels,
    load_examples,
    normalise,
)
from bot.intake.example_files import fingerprint
from bot.intake.recommendation import SIDES
from bot.intake.sentence_encoder import embed_all

ROOT = Path(__file__).resolve().parents[3]
HELDOUT = ROOT / "tests" / "nlu"
MIN_PER_VALUE = 60


def test_negated_words_are_marked_within_their_clause() -> None:
    assert normalise("I'm NOT alone, my sister helps") == "i am not not_alone . my sister helps"
    assert (
        normalise("it won't stop at one decision") == "it will not not_stop not_at not_one decision"
    )
    assert normalise("nobody helps me") == "nobody not_helps not_me"


def test_quotes_and_contractions_are_straightened() -> None:
    assert normalise("It\u2019s complicated & messy") == "it complicated and messy"
    assert normalise("") == ""


def test_a_reading_is_an_answer_only_when_sure_and_not_none() -> None:
    assert Reading("alone", 0.9).taken(0.5) == "alone"
    assert Reading("alone", 0.4).taken(0.5) is None
    assert Reading(NONE, 0.99).taken(0.5) is None
    assert Reading("many", 0.81234567).as_dict() == {"value": "many", "confidence": 0.8123}


def test_every_value_has_enough_varied_examples() -> None:
    examples = load_examples()
    assert set(examples) == set(SIDES)
    for question, values in SIDES.items():
        labels = [label for _, label in examples[question]]
        for value in (*values, NONE):
            minimum = MIN_PER_VALUE if value != NONE else 30
            assert labels.count(value) >= minimum, (question, value, labels.count(value))


def test_options_named_by_position_map_to_each_question() -> None:
    assert by_position("support", "first") == "has_support"
    assert by_position("decisions", "second") == "many"
    assert by_position("need", "none") == "none"
    pairs = dict(load_examples()["scope"])
    assert pairs["the latter option"] == "complex" and pairs["the former option"] == "bounded"


def test_labels_outside_a_question_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown labels"):
        check_labels("scope", [("x", "alone"), ("y", "bounded"), ("z", "complex"), ("w", NONE)])
    with pytest.raises(ValueError, match="no examples"):
        check_labels("scope", [("y", "bounded"), ("w", NONE)])


def test_bad_question_in_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.yml").write_text("question: mood\nexamples: {}\n")
    with pytest.raises(ValueError, match="question"):
        load_examples(tmp_path)


def test_fingerprint_follows_the_example_files(tmp_path: Path) -> None:
    path = tmp_path / "scope.yml"
    path.write_text("question: scope\nexamples: {bounded: [a]}\n")
    first = fingerprint(tmp_path)
    path.write_text("question: scope\nexamples: {bounded: [b]}\n")
    assert fingerprint(tmp_path) != first


def heldout_texts() -> set[str]:
    """Every held-out answer and statement, normalised."""
    texts = set()
    answers = yaml.safe_load((HELDOUT / "answers_heldout.yml").read_text())
    texts |= {normalise(item["text"]) for items in answers.values() for item in items}
    for name in ("false_alarms.yml", "destructive_answers.yml"):
        texts |= {
            normalise(i["text"]) for i in yaml.safe_load((HELDOUT / name).read_text())["items"]
        }
    words = yaml.safe_load((ROOT / "tests" / "e2e" / "conversations_in_words.yml").read_text())
    for conversation in words["conversations"]:
        texts |= {normalise(a["text"]) for a in conversation["answers"].values()}
    return texts


def test_training_examples_never_include_held_out_texts() -> None:
    trained = {normalise(text) for pairs in load_examples().values() for text, _ in pairs}
    assert not trained & heldout_texts()


def test_sentence_encoder_puts_paraphrases_close() -> None:
    vectors = embed_all(
        [
            "nobody helps me with any of this",
            "i'm handling everything on my own",
            "what is the weather like tomorrow",
        ]
    )
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > unrelated + 0.2
