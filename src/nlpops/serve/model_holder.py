"""The model the API serves right now, and how it is replaced without downtime.

A reload loads the new model beside the old one, then swaps a single reference under a lock:
requests in flight keep the object they started with, a failed load keeps the old model. The
last model loaded from the registry is copied to ``model_cache_dir`` so the service still
starts when the MLflow server is down.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from nlpops.errors import ModelLoadError
from nlpops.models.base import load_model_dir
from nlpops.outputs import filled_once
from nlpops.tracking import LoadedModel

log = logging.getLogger(__name__)
Loader = Callable[[str, Path | None], LoadedModel]
Resolver = Callable[[str], str | None]


@dataclass
class ReloadOutcome:
    """What a reload did."""

    reloaded: bool
    previous_version: str | None
    version: str | None
    message: str


def _default_loader(uri: str, cache_dir: Path | None) -> LoadedModel:
    from nlpops.tracking import load_estimator

    return load_estimator(uri, cache_dir)


def _default_resolver(uri: str) -> str | None:
    from nlpops.tracking import resolve_version

    return resolve_version(uri)


class ModelHolder:
    """Holds the current :class:`LoadedModel` and reloads it when the registry alias moves."""

    def __init__(
        self,
        uri: str,
        cache_dir: Path | None = None,
        loader: Loader | None = None,
        resolver: Resolver | None = None,
        on_swap: Callable[[LoadedModel], None] | None = None,
    ):
        self.uri = uri
        self.cache_dir = cache_dir
        self.loader = loader or _default_loader
        self.resolver = resolver or _default_resolver
        self.on_swap = on_swap
        self._current: LoadedModel | None = None
        self._swap_lock = threading.Lock()
        self._load_lock = threading.Lock()  # one load at a time

    @property
    def current(self) -> LoadedModel | None:
        """The model to use for one request (read once, keep the reference)."""
        return self._current

    def _swap(self, new: LoadedModel) -> None:
        with self._swap_lock:
            self._current = new
        if self.on_swap is not None:
            self.on_swap(new)

    def load_initial(self) -> bool:
        """Load the model at startup, falling back to the disk cache; False when neither works."""
        try:
            self.reload()
            return True
        except ModelLoadError as err:
            cached = self._read_cache()
            if cached is None:
                log.error("no model to serve: %s (and no cached copy)", err)
                return False
            log.warning("%s; serving the cached copy (version %s)", err, cached.version)
            self._swap(cached)
            return True

    def reload(self) -> ReloadOutcome:
        """Load the model behind the URI now and swap it in.

        Raises:
            ModelLoadError: the load failed; the current model stays.
        """
        with self._load_lock:
            old = self._current
            try:
                new = self.loader(self.uri, self.cache_dir)
            except Exception as err:
                log.exception("loading %s failed; keeping the current model", self.uri)
                raise ModelLoadError(f"could not load {self.uri}: {type(err).__name__}: {err}") from err
            self._swap(new)
            self._write_cache(new)
        previous = old.version if old else None
        log.info("serving %s version %s (was %s)", new.name, new.version, previous)
        return ReloadOutcome(True, previous, new.version, f"now serving {new.name} version {new.version}")

    def poll(self) -> ReloadOutcome | None:
        """Reload when the registry points at another version (or nothing is loaded yet)."""
        current = self._current
        if current is None:
            if not self.load_initial() or self._current is None:
                return None
            return ReloadOutcome(True, None, self._current.version, "first model loaded")
        try:
            version = self.resolver(self.uri)
        except Exception:
            log.warning("cannot resolve %s; keeping version %s", self.uri, current.version, exc_info=True)
            return None
        if version is None or version == current.version:
            return None
        log.info("%s moved from version %s to %s; reloading", self.uri, current.version, version)
        try:
            return self.reload()
        except ModelLoadError:
            return None

    # --- disk cache ------------------------------------------------------------------------
    def _cache_folder(self) -> Path | None:
        if self.cache_dir is None or Path(self.uri).exists():  # a local folder needs no copy
            return None
        key = hashlib.sha256(self.uri.encode()).hexdigest()[:16]
        return Path(self.cache_dir) / "serving" / key

    def _write_cache(self, loaded: LoadedModel) -> None:
        folder = self._cache_folder()
        if folder is None:
            return
        try:
            shutil.rmtree(folder, ignore_errors=True)  # an older model's copy
            with filled_once(folder) as stage:
                loaded.model.save(stage / "model")
                info = {k: v for k, v in asdict(loaded).items() if k != "model"}
                (stage / "info.json").write_text(json.dumps(info))
        except Exception:
            log.warning("could not cache the model in %s", folder, exc_info=True)

    def _read_cache(self) -> LoadedModel | None:
        folder = self._cache_folder()
        if folder is None or not (folder / "info.json").is_file():
            return None
        try:
            info = json.loads((folder / "info.json").read_text())
            return LoadedModel(model=load_model_dir(folder / "model"), **info)
        except Exception:
            log.warning("the cached model in %s is unusable", folder, exc_info=True)
            return None


async def poll_forever(holder: ModelHolder, interval_s: float) -> None:
    """Poll the registry every ``interval_s`` seconds (runs as an asyncio task until cancelled)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await asyncio.to_thread(holder.poll)
        except Exception:
            log.exception("model poll failed")
