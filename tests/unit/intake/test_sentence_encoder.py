"""The ONNX encoder against the original model's forward pass (NumPy, from the same weights)."""

from pathlib import Path

import numpy as np
import pytest

from bot.intake.encoder_graph import GRAPH_FILE
from bot.intake.sentence_encoder import (
    ReferenceEncoder,
    SentenceEncoder,
    embed_all,
    package_archive,
    shared_encoder,
)

SENTENCES = [
    "hi",
    "my husband is sweaty and gray and his chest feels crushed",
    "what does a second opinion cost, and how long does it take to get one?",
    "i keep thinking about ending things",
    "we want a doctor who stays with us through mum's treatment, not just one review",
    "cant breathe",
    "",
]


@pytest.fixture(scope="module")
def reference() -> ReferenceEncoder:
    """The NumPy forward pass."""
    return ReferenceEncoder.from_archive(package_archive())


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity."""
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_the_graph_gives_the_original_models_vectors(reference: ReferenceEncoder) -> None:
    onnx_vectors = np.stack([shared_encoder().encode([text])[0] for text in SENTENCES])
    assert cosines(onnx_vectors, reference.encode(SENTENCES)).min() >= 0.99


def test_a_padded_batch_gives_what_each_text_gives_alone() -> None:
    encoder = shared_encoder()
    alone = np.stack([encoder.encode([text])[0] for text in SENTENCES])
    batched = encoder.encode(SENTENCES)  # padded to the longest, in one run
    assert np.allclose(alone, batched, atol=1e-5)


def test_vectors_are_unit_length_and_tell_texts_apart() -> None:
    vectors = embed_all(SENTENCES[:3])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert cosines(vectors[:1], vectors[1:2])[0] < 0.9


def test_a_missing_graph_is_built_from_the_installed_weights_alike(tmp_path: Path) -> None:
    shared_encoder()  # builds the shared graph if `make setup` has not
    graph = tmp_path / "encoder.onnx"
    encoder = SentenceEncoder.from_archive(package_archive(), graph)
    assert graph.read_bytes() == GRAPH_FILE.read_bytes()  # the build is deterministic
    assert np.allclose(encoder.encode(["hello"]), shared_encoder().encode(["hello"]), atol=1e-6)
