"""The bad-buzz watch: detector on planted spikes, aggregation, readers, the pipeline and the CLI."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nlpops.cli import app
from nlpops.data import data_dir
from nlpops.errors import DataError
from nlpops.models import build_model
from nlpops.watch import (
    Spike,
    SpikeDetector,
    WatchSpec,
    aggregate,
    describe_spikes,
    read_chunks,
    run_watch,
    to_utc,
    top_terms,
)
from nlpops.watch.detect import term_ids
from nlpops.watch.pipeline import EARLY_CHECK_POSTS, score_local

AIRLINE = "twitter_us_airline_sentiment_tweets.csv.gz"  # in the data folder (NLPOPS_DATA_DIR)
START = pd.Timestamp("2024-03-01", tz="UTC")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny negative/positive tfidf_lr model saved as a folder (a valid --model URI)."""
    pos = ["great flight", "awesome crew", "love this", "good service", "so happy"]
    neg = ["terrible crew", "lost my luggage", "hate this", "bad service", "so sad"]
    texts = [f"{s} on {d}" for s in pos + neg for d in ("mon", "tue", "fri")]
    labels = ["positive"] * 15 + ["negative"] * 15
    model = build_model("tfidf_lr", {"char_ngram_range": None, "min_df": 1}).fit(texts, labels)
    return str(model.save(tmp_path_factory.mktemp("watch") / "model"))


def _stream(
    hours: int = 48, spike_at: int | None = None, spike_group: str = "B", seed: int = 0
) -> pd.DataFrame:
    """Posts per hour for groups A and B: ~10 negatives + ~10 positives an hour, a planted burst."""
    rng = np.random.default_rng(seed)
    rows = []
    for hour in range(hours):
        for group in ("A", "B"):
            n_neg = rng.poisson(10) + (60 if hour == spike_at and group == spike_group else 0)
            n_pos = rng.poisson(10)
            stamp = START + pd.Timedelta(hours=hour, minutes=10)
            rows += [(stamp, group, "terrible crew lost my luggage") for _ in range(n_neg)]
            rows += [(stamp, group, "great flight awesome crew") for _ in range(n_pos)]
    return pd.DataFrame(rows, columns=["created", "airline", "body"])


# --- the detector (pure) -------------------------------------------------------------------------


def test_planted_spike_is_found_at_its_window() -> None:
    rng = np.random.default_rng(1)
    negatives = rng.poisson(10, size=48)
    negatives[30] += 40
    spikes = SpikeDetector(baseline_windows=24).detect_series(np.full(48, 50), negatives)
    assert [s.window for s in spikes] == [30]
    assert spikes[0].observed == negatives[30] and 5 < spikes[0].expected < 15 and spikes[0].score >= 5


@pytest.mark.parametrize("method", ["poisson", "zscore"])
def test_flat_stream_has_no_spike(method: str) -> None:
    negatives = np.random.default_rng(2).poisson(20, size=500)
    assert SpikeDetector(method=method).detect_series(np.full(500, 60), negatives) == []  # type: ignore[arg-type]


def test_min_volume_is_respected() -> None:
    negatives = [0] * 10 + [8]  # huge relative jump, but only 8 posts
    assert SpikeDetector(min_volume=10).detect_series([20] * 11, negatives) == []
    assert [s.window for s in SpikeDetector(min_volume=8).detect_series([20] * 11, negatives)] == [10]


def test_share_basis_ignores_a_traffic_rise() -> None:
    volumes = [100] * 30 + [300]
    negatives = [20] * 30 + [60]  # three times the traffic, same 20 % negative share
    assert SpikeDetector(basis="share").detect_series(volumes, negatives) == []
    assert len(SpikeDetector(basis="count").detect_series(volumes, negatives)) == 1


def test_short_history_never_fires() -> None:
    assert SpikeDetector(min_history=6).detect_series([50] * 5, [1, 1, 1, 1, 90]) == []


def test_top_terms_are_those_of_the_spike() -> None:
    spike = ["lost my luggage again", "luggage lost in denver", "where is my luggage"]
    baseline = ["flight delayed again", "delayed in denver", "my flight is late"] * 5
    assert top_terms(spike, baseline, k=2)[0] in {"luggage", "lost"}


def test_term_ids_count_as_scikit_learn_does() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    texts = ["Lost my LUGGAGE again!! #fail", "the gate agent was rude", "", "42 :) ok", "Été à Paris #fail",
             "tab\tsep\nnew\x1cline  don't-stop #a#b x.y.z", "Lost my luggage"]  # fmt: skip
    ids, starts, terms = term_ids(texts)
    vec = CountVectorizer(stop_words="english", token_pattern=r"(?u)#?\b[^\W\d_]{2,}\b")
    expected = vec.fit_transform(texts).toarray()
    assert list(terms) == list(vec.get_feature_names_out())
    got = np.stack([np.bincount(ids[a:b], minlength=len(terms)) for a, b in pairwise(starts)])
    assert (got == expected).all()


def test_describe_spikes_ranks_as_top_terms_on_each_spike_alone() -> None:
    # Spikes share baseline posts, which describe_spikes tokenises once per group; the terms must
    # be those that top_terms finds on each spike's own posts and baseline.
    rng = np.random.default_rng(0)
    words = ["luggage", "lost", "delay", "crew", "rude", "refund", "seat", "wifi", "denver", "gate"]
    rows = []
    for hour in range(30):
        for group in ("a", "b"):
            for _ in range(int(rng.integers(1, 12))):
                text = " ".join(rng.choice(words, size=4))
                rows.append((START + pd.Timedelta(hours=hour, minutes=int(rng.integers(60))), group, text))
    negatives = pd.DataFrame(rows, columns=["time", "group", "text"])
    spikes = [
        Spike(START + pd.Timedelta(hours=h), g, 1, 1.0, 1.0, 1) for h, g in [(5, "a"), (6, "a"), (9, "b")]
    ]
    describe_spikes(spikes, negatives, "1h", baseline_windows=4, max_texts=15)
    for spike in spikes:
        rows_g = negatives[negatives["group"] == spike.group].sort_values(["time", "text"])
        start = pd.Timestamp(spike.window)
        inside = rows_g[(rows_g["time"] >= start) & (rows_g["time"] < start + pd.Timedelta(hours=1))]
        before = rows_g[(rows_g["time"] >= start - pd.Timedelta(hours=4)) & (rows_g["time"] < start)]
        expected = top_terms(inside["text"].tail(15).tolist(), before["text"].tail(15).tolist())
        assert spike.top_terms == expected and spike.top_terms
        assert spike.examples == inside["text"].drop_duplicates().head(3).tolist()


# --- aggregation and reading ---------------------------------------------------------------------


def test_aggregate_counts_and_fills_empty_windows() -> None:
    times = pd.to_datetime(["2024-01-01 00:10", "2024-01-01 00:50", "2024-01-01 03:05"], utc=True)
    scored = pd.DataFrame(
        {"time": times, "group": "x", "p_negative": [0.9, 0.2, 0.8], "is_negative": [True, False, True]}
    )
    agg = aggregate(scored, "1h")
    assert agg["volume"].tolist() == [2, 0, 0, 1]
    assert agg["negative"].tolist() == [1, 0, 0, 1]
    assert agg["negative_share"].tolist() == [0.5, 0.0, 0.0, 1.0]
    assert agg["mean_p_negative"].iloc[0] == pytest.approx(0.55)


def test_bad_window_is_named() -> None:
    with pytest.raises(ValueError, match="--window 'soon'"):
        aggregate(pd.DataFrame({"time": [START], "group": ["a"]}), "soon")


def test_to_utc_converts_offsets_and_keeps_naive_as_utc() -> None:
    with_offset = to_utc(pd.Series(["2015-02-24 11:35:52 -0800"]))
    assert with_offset.iloc[0] == pd.Timestamp("2015-02-24 19:35:52", tz="UTC")
    assert to_utc(pd.Series(["2024-01-01 10:00"])).iloc[0] == pd.Timestamp("2024-01-01 10:00", tz="UTC")


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".jsonl", ".parquet"])
def test_read_chunks_every_format(tmp_path: Path, suffix: str) -> None:
    frame = _stream(hours=2).astype({"created": str})
    path = tmp_path / f"posts{suffix}"
    if suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    chunks = list(read_chunks(path, WatchSpec("created", "body", by="airline"), chunksize=25))
    assert max(len(c) for c in chunks) <= 25
    assert pd.concat(chunks)["body"].tolist() == frame["body"].tolist()


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "posts.parquet"
    _stream(hours=1).to_parquet(path)
    with pytest.raises(ValueError, match=r"posts\.parquet: missing column 'when'"):
        list(read_chunks(path, WatchSpec("when", "body")))


# --- the pipeline and the CLI --------------------------------------------------------------------


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, subject: str, message: str) -> None:
        self.sent.append((subject, message))


class _Broken:
    def send(self, subject: str, message: str) -> None:
        raise ConnectionError("down")


def test_pipeline_finds_the_planted_spike_in_its_group(tmp_path: Path, model_dir: str) -> None:
    path = tmp_path / "posts.csv"
    _stream(hours=48, spike_at=36, spike_group="B").to_csv(path, index=False)
    recorder = _Recorder()
    result = run_watch(
        path, model_dir, WatchSpec("created", "body", by="airline"), tmp_path / "out",
        channels=[_Broken(), recorder],
    )  # fmt: skip
    assert [(s.window, s.group) for s in result.spikes] == [(START + pd.Timedelta(hours=36), "B")]
    spike = result.spikes[0]
    assert spike.examples == ["terrible crew lost my luggage"]  # duplicates are shown once
    assert len(recorder.sent) == 1 and "B" in recorder.sent[0][0]
    assert pd.read_csv(result.files["spikes"])["group"].tolist() == ["B"]


def test_cli_on_an_airline_slice(tmp_path: Path, model_dir: str) -> None:
    path = tmp_path / "tweets.csv"
    pd.read_csv(data_dir() / AIRLINE, nrows=2000).to_csv(path, index=False)
    out = tmp_path / "out"
    args = ["watch", str(path), "--model", model_dir, "--time-col", "tweet_created", "--by", "airline"]
    result = CliRunner().invoke(app, [*args, "--window", "2h", "--out", str(out), "--no-alert"])
    assert result.exit_code == 0, result.output
    for name in ("timeline.png", "spikes.csv", "report.html"):
        assert (out / name).stat().st_size > 0
    windows = pd.read_csv(out / "windows.csv")
    assert windows["volume"].sum() == 2000 and set(windows["group"]) <= {"Virgin America", "United"}


def test_cli_bad_column_exits_1_naming_it(tmp_path: Path, model_dir: str) -> None:
    path = tmp_path / "posts.csv"
    _stream(hours=1).to_csv(path, index=False)
    args = ["watch", str(path), "--model", model_dir, "--time-col", "created", "--text-col", "tweet"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out"), "--no-alert"])
    assert result.exit_code == 1
    assert "missing column 'tweet'" in result.output


def test_parallel_scoring_keeps_rows_and_order(tmp_path: Path, model_dir: str) -> None:
    path = tmp_path / "posts.csv"
    _stream(hours=6).to_csv(path, index=False)
    spec = WatchSpec("created", "body", by="airline")
    one = score_local(model_dir, path, spec, chunksize=40)
    two = score_local(model_dir, path, spec, chunksize=40, jobs=2)
    pd.testing.assert_frame_equal(one, two)


def test_cli_a_time_column_that_holds_no_time_fails_with_counts(tmp_path: Path, model_dir: str) -> None:
    path = tmp_path / "tweets.csv"
    pd.read_csv(data_dir() / AIRLINE, nrows=300).to_csv(path, index=False)
    out = tmp_path / "out"
    args = [
        "watch",
        str(path),
        "--model",
        model_dir,
        "--time-col",
        "airline",
        "--out",
        str(out),
        "--no-alert",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and not out.exists()
    assert result.stderr == (
        f"error: {path}: none of the 300 values of column 'airline' is a time (e.g. 'Virgin America'); "
        "give --time-col the column of the post times\n"
    )


@pytest.mark.parametrize("jobs", [1, 2])
def test_posts_whose_time_does_not_parse_are_counted_and_warned_of(
    tmp_path: Path, model_dir: str, jobs: int
) -> None:
    posts = _stream(hours=6)
    posts["created"] = posts["created"].astype(str)
    posts.loc[[5, 70, 200], "created"] = ["yesterday", "", "soon"]
    path = tmp_path / "posts.csv"
    posts.to_csv(path, index=False)
    spec = WatchSpec("created", "body", by="airline")
    result = run_watch(path, model_dir, spec, tmp_path / "out", detector=SpikeDetector(), jobs=jobs)
    assert (result.untimed.count, result.untimed.total) == (3, len(posts))
    assert result.untimed.example == "yesterday" and result.n_posts == len(posts) - 3
    args = ["watch", str(path), "--model", model_dir, "--time-col", "created", "--text-col", "body"]
    cli = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "cli"), "--no-alert", "--jobs", str(jobs)])
    assert cli.exit_code == 0, cli.output
    assert cli.stderr == (
        f"warning: 3 of {len(posts):,} posts left out: their 'created' is not a time (e.g. 'yesterday')\n"
    )


def test_a_wrong_time_column_stops_at_the_first_chunk(tmp_path: Path, model_dir: str) -> None:
    """A million posts with a wrong ``--time-col`` fail after one chunk, not after scoring them all."""
    path = tmp_path / "tweets.csv"
    pd.read_csv(data_dir() / AIRLINE, nrows=3 * EARLY_CHECK_POSTS).to_csv(path, index=False)
    chunks: list[int] = []
    spec = WatchSpec(time_col="airline")
    with pytest.raises(DataError, match=f"none of the {EARLY_CHECK_POSTS:,} values of column 'airline'"):
        score_local(model_dir, path, spec, chunksize=EARLY_CHECK_POSTS, on_chunk=chunks.append)
    assert chunks == [EARLY_CHECK_POSTS]
