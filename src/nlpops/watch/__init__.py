"""Bad-buzz watch: score timestamped posts, aggregate them per window, detect negative spikes.

Usage (not run as a doctest: it needs a model or data file)::

    from nlpops.watch import WatchSpec, SpikeDetector, run_watch
    result = run_watch("tweets.csv", "models:/airline@champion", WatchSpec("tweet_created", by="airline"),
                       out_dir="watch-out")
"""

from nlpops.watch.aggregate import aggregate
from nlpops.watch.detect import Spike, SpikeDetector, describe_spikes, top_terms
from nlpops.watch.pipeline import WatchResult, run_watch
from nlpops.watch.score import WatchSpec, read_chunks, score_chunks, to_utc

__all__ = [
    "Spike",
    "SpikeDetector",
    "WatchResult",
    "WatchSpec",
    "aggregate",
    "describe_spikes",
    "read_chunks",
    "run_watch",
    "score_chunks",
    "to_utc",
    "top_terms",
]
