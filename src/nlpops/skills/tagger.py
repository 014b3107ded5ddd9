"""Skills as transformer token classification: BIO tags on word pieces, character spans out.

The option next to spaCy's NER (``training.model: transformer`` in ``configs/skills.yaml``): any
BERT-family checkpoint (offline default all-MiniLM-L6-v2) with a token-classification head. Gold
spans are turned into one tag per word piece through the fast tokenizer's character offsets (the
first piece of a span is ``B-``, the others ``I-``, special tokens are ignored by the loss). Long
postings are cut into overlapping windows; at prediction time the logits of a piece seen by two
windows are summed before the tags are read back into character spans.

Heavy: imports torch and transformers (the spaCy component imports this module only when it runs).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator

from nlpops.models.hf.windows import Windows, collate, encode_windows
from nlpops.models.names import current_params
from nlpops.skills.schema import LABELS, Record, SpanSet

TAGS = ("O", *(f"{prefix}-{label}" for label in LABELS for prefix in ("B", "I")))
IGNORE = -100  # the loss skips these pieces (special tokens)
Offsets = Sequence[tuple[int, int]]
PARAMS_JSON = "tagger.json"


def piece_tags(offsets: Offsets, spans: Sequence[tuple[int, int, str]]) -> list[int]:
    """The tag id of each word piece of one window.

    A piece inside a span is ``B-label`` when it is the first piece of that span in this window,
    else ``I-label``; pieces outside every span are ``O``; special tokens (empty offsets) are
    ``IGNORE``.
    """
    tags, previous = [], None
    for start, end in offsets:
        if start == end:
            tags.append(IGNORE)
            previous = None
            continue
        span = next((s for s in spans if s[0] <= start and end <= s[1]), None)
        if span is None:
            tags.append(0)
        else:
            prefix = "I" if span == previous else "B"
            tags.append(TAGS.index(f"{prefix}-{span[2]}"))
        previous = span
    return tags


def decode_spans(offsets: Offsets, tag_ids: Sequence[int]) -> SpanSet:
    """Character spans ``(start, end, label)`` from the tags of pieces in text order.

    ``B-x`` opens a span; ``I-x`` extends an open ``x`` span (and opens one after anything else,
    as a lenient reader of an imperfect model).
    """
    spans: SpanSet = set()
    current: list[Any] | None = None
    for (start, end), tag_id in zip(offsets, tag_ids, strict=True):
        tag = TAGS[tag_id]
        label = tag[2:]
        if tag == "O" or start == end:
            _close(current, spans)
            current = None
        elif tag.startswith("I-") and current is not None and current[2] == label:
            current[1] = end
        else:
            _close(current, spans)
            current = [start, end, label]
    _close(current, spans)
    return spans


def _close(current: list[Any] | None, spans: SpanSet) -> None:
    if current is not None:
        spans.add((int(current[0]), int(current[1]), str(current[2])))


class SkillsTagger(BaseEstimator):
    """A token-classification transformer that finds skills as character spans.

    ``get_params`` comes from scikit-learn's ``BaseEstimator`` (read off ``__init__``), so the
    parameters saved with the tagger cannot drift from the constructor's.

    Args:
        checkpoint: ``"minilm"`` (offline), a local Hugging Face folder, or a hub id.
        max_length: word pieces per window, special tokens included.
        stride: pieces shared by consecutive windows of one text.
        max_epochs: passes over the training windows.
        learning_rate: AdamW's peak rate (10% linear warm-up, then linear decay).
        batch_size: windows per step.
        random_state: seeds the head's initialisation and the shuffling.
        n_jobs: torch threads (None: ``Settings.num_threads``).
        device: "auto" (CUDA when present), "cpu" or "cuda".
    """

    def __init__(
        self,
        checkpoint: str = "minilm",
        max_length: int = 128,
        stride: int = 32,
        max_epochs: int = 10,
        learning_rate: float = 1e-4,
        batch_size: int = 8,
        random_state: int = 0,
        n_jobs: int | None = None,
        device: str = "auto",
    ) -> None:
        self.checkpoint = checkpoint
        self.max_length = max_length
        self.stride = stride
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.device = device

    # --- tokenisation -------------------------------------------------------------------------
    def _windows(self, texts: Sequence[str]) -> tuple[Windows, list[list[tuple[int, int]]]]:
        """The texts' windows, and the characters of each window's pieces."""
        windows = encode_windows(self.tokenizer_, texts, self.max_length, self.stride, offsets=True)
        return windows, windows.offsets or []

    def _batch(self, windows: Windows, idx: Sequence[int], tags: list[list[int]] | None) -> dict:
        """Inputs of the windows ``idx`` on the model's device, padded; with their tags when given."""
        device = next(self.model_.parameters()).device
        batch = collate(windows, np.asarray(idx), int(self.tokenizer_.pad_token_id or 0), device)
        if tags is not None:
            labels = torch.full_like(batch["input_ids"], IGNORE)
            for row, i in enumerate(idx):
                labels[row, : len(tags[i])] = torch.tensor(tags[i])
            batch["labels"] = labels
        return batch

    # --- training -----------------------------------------------------------------------------
    def fit(self, records: Sequence[Record], epoch_callback: Any = None) -> SkillsTagger:
        """Fine-tune on annotated records; ``history_`` keeps each epoch's mean loss."""
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        from nlpops.models.deep.trainer import resolve_device, torch_threads
        from nlpops.models.hf.checkpoints import resolve_checkpoint
        from nlpops.models.hf.estimator import quiet_transformers
        from nlpops.settings import resolve_threads

        if not records:
            raise ValueError("no training records")
        quiet_transformers()
        torch.manual_seed(self.random_state)
        source = resolve_checkpoint(self.checkpoint)
        self.tokenizer_ = AutoTokenizer.from_pretrained(source)
        self.model_ = AutoModelForTokenClassification.from_pretrained(
            source,
            num_labels=len(TAGS),
            id2label=dict(enumerate(TAGS)),
            label2id={t: i for i, t in enumerate(TAGS)},
            ignore_mismatched_sizes=True,  # a checkpoint with another head gets a fresh one
        ).to(resolve_device(self.device))
        windows, offsets = self._windows([r.text for r in records])
        tags = [piece_tags(o, records[k].spans) for o, k in zip(offsets, windows.owner, strict=True)]
        with torch_threads(resolve_threads(self.n_jobs)):
            self.history_ = self._train(windows, tags, epoch_callback)
        self.model_.eval()
        return self

    def _train(self, windows: Windows, tags: list[list[int]], epoch_callback: Any) -> list[float]:
        from nlpops.models.hf.finetune import warmup_linear

        rng = random.Random(self.random_state)
        order = list(range(len(windows.ids)))
        steps = self.max_epochs * -(-len(order) // self.batch_size)
        optimizer = torch.optim.AdamW(self.model_.parameters(), lr=self.learning_rate, weight_decay=0.01)
        schedule = warmup_linear(optimizer, max(1, steps // 10), steps)
        self.model_.train()
        history = []
        for epoch in range(self.max_epochs):
            rng.shuffle(order)
            losses = []
            for i in range(0, len(order), self.batch_size):
                loss = self.model_(**self._batch(windows, order[i : i + self.batch_size], tags)).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model_.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                losses.append(loss.item())
            history.append(float(np.mean(losses)))
            if epoch_callback:
                epoch_callback(epoch + 1, history[-1])
        return history

    # --- prediction ---------------------------------------------------------------------------
    def predict_spans(self, texts: Sequence[str]) -> list[SpanSet]:
        """Each text's skills as character spans ``(start, end, label)``."""
        from nlpops.models.deep.trainer import torch_threads
        from nlpops.settings import resolve_threads

        windows, offsets = self._windows(texts)
        # per text: piece offsets -> summed logits (a piece in two windows is counted twice)
        pieces: list[dict[tuple[int, int], np.ndarray]] = [{} for _ in texts]
        with torch.inference_mode(), torch_threads(resolve_threads(self.n_jobs)):
            for i in range(0, len(windows.ids), 16):
                idx = list(range(i, min(i + 16, len(windows.ids))))
                logits = self.model_(**self._batch(windows, idx, None)).logits.float().cpu().numpy()
                for row, w in enumerate(idx):
                    seen = pieces[windows.owner[w]]
                    for j, offset in enumerate(offsets[w]):
                        if offset[0] != offset[1]:
                            seen[offset] = seen.get(offset, 0) + logits[row, j]
        out = []
        for seen in pieces:
            ordered = sorted(seen)
            out.append(decode_spans(ordered, [int(np.argmax(seen[o])) for o in ordered]))
        return out

    # --- persistence --------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the model, its tokenizer and the parameters into ``folder``."""
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        self.model_.save_pretrained(path)
        self.tokenizer_.save_pretrained(path)
        state = {"params": self.get_params(), "history": getattr(self, "history_", [])}
        (path / PARAMS_JSON).write_text(json.dumps(state, indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> SkillsTagger:
        """Read a tagger written by :meth:`save`."""
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        from nlpops.models.deep.trainer import resolve_device

        path = Path(folder)
        if not (path / PARAMS_JSON).is_file():
            raise FileNotFoundError(f"{path}: not a skills tagger folder (no {PARAMS_JSON})")
        state = json.loads((path / PARAMS_JSON).read_text(encoding="utf-8"))
        tagger = cls(**current_params(state["params"], cls._get_param_names()))  # old names: renamed
        tagger.history_ = state["history"]
        tagger.tokenizer_ = AutoTokenizer.from_pretrained(path)
        model = AutoModelForTokenClassification.from_pretrained(path)
        tagger.model_ = model.to(resolve_device(tagger.device)).eval()
        return tagger
