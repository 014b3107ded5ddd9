"""ONNX export of a fine-tuned transformer, dynamic int8 quantisation, and ONNX Runtime inference.

``export_onnx`` writes ``model.onnx`` into a saved ``TransformerClassifier`` folder; loading that
folder then predicts with :class:`OnnxLogits` (same windows, same pooling), so everything that
loads nlpops models — the API, ``evaluate``, ``watch`` — serves the ONNX model without a change.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nlpops.models.deep.trainer import bucket_batches
from nlpops.models.hf.windows import Windows

ONNX_FILE = "model.onnx"
OPSET = 17


class OnnxLogits:
    """An ONNX Runtime session that scores token windows (input ids + attention mask → logits)."""

    def __init__(self, path: str | Path, num_threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = int(num_threads or os.cpu_count() or 1)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def logits(self, windows: Windows, batch_size: int, pad_id: int) -> np.ndarray:
        """Logits of every window, in length-sorted batches, returned in window order."""
        out: np.ndarray | None = None
        for idx in bucket_batches(windows.lengths, batch_size, None):
            rows = [windows.ids[i] for i in idx]
            width = max(len(r) for r in rows)
            ids = np.full((len(rows), width), pad_id, dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, row in enumerate(rows):
                ids[r, : len(row)], mask[r, : len(row)] = row, 1
            feed = {"input_ids": ids, "attention_mask": mask}
            logits = self.session.run(["logits"], {k: v for k, v in feed.items() if k in self.inputs})[0]
            if out is None:
                out = np.zeros((len(windows.ids), logits.shape[1]), dtype=np.float32)
            out[idx] = logits
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)


class LogitsOnly(torch.nn.Module):
    """A classification model whose forward returns the plain logits tensor (what ONNX traces)."""

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits


def export_onnx(model: Any, folder: str | Path, int8: bool = True) -> Path:
    """Write ``model.onnx`` (int8 weights when ``int8``) for a fitted ``TransformerClassifier``.

    Args:
        model: a fitted ``TransformerClassifier``.
        folder: the model's saved folder; the ONNX file is written there.
        int8: quantise the weights to int8 (dynamic quantisation of the MatMul/Gemm weights).

    Returns:
        The ONNX file.
    """
    target = Path(folder) / ONNX_FILE
    net = LogitsOnly(model.model_.to("cpu")).eval()
    example = model.tokenizer_(["an example text"], return_tensors="pt")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shapes that dynamic_axes already cover
            torch.onnx.export(
                net,
                (example["input_ids"], example["attention_mask"]),
                str(fp32),
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                },
                opset_version=OPSET,
                dynamo=False,
            )
        partial = target.with_suffix(".partial")
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            root = logging.getLogger()
            level, root.level = root.level, logging.ERROR  # its advice to pre-process is for CNNs
            try:
                quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8)
            finally:
                root.setLevel(level)
        else:
            fp32.replace(partial)
        partial.replace(target)  # complete or absent
    return target
