"""Tiny randomly initialised transformers for tests: MiniLM's tokenizer, hidden size 32, saved to a folder."""

from __future__ import annotations

from pathlib import Path


def tiny_checkpoint(parent: Path, arch: str = "bert") -> str:
    """Save a 2-layer ``arch`` ("bert" or "distilbert") model and its tokenizer under ``parent``.

    The initialiser range is 0.2 (not 0.02): with hidden size 32 the default leaves the first
    token's state nearly identical for every text, and a few steps cannot learn anything.
    """
    from transformers import AutoTokenizer, BertConfig, BertModel, DistilBertConfig, DistilBertModel

    from nlpops.models.hf.checkpoints import minilm_path

    tok = AutoTokenizer.from_pretrained(str(minilm_path()))
    model: BertModel | DistilBertModel
    if arch == "bert":
        model = BertModel(
            BertConfig(
                vocab_size=tok.vocab_size,
                hidden_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                intermediate_size=64,
                max_position_embeddings=128,
                initializer_range=0.2,
            )
        )
    else:
        model = DistilBertModel(
            DistilBertConfig(
                vocab_size=tok.vocab_size,
                dim=32,
                n_layers=2,
                n_heads=2,
                hidden_dim=64,
                initializer_range=0.2,
                max_position_embeddings=128,
            )
        )
    folder = parent / arch
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)
