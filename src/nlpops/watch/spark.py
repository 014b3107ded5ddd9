"""The Spark engine of ``nlpops watch``: score with ``mlflow.pyfunc.spark_udf``, aggregate in Spark SQL.

pyspark is an optional extra (``pip install nlpops[spark]``, Java 17); it is imported only here, inside
the functions. Scored posts are written as Parquet (``<out>/scored.parquet``); only the per-window
counts and the negative posts around the spikes come back to the driver.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from nlpops.alerts import Channel
from nlpops.data.files import resolve_path
from nlpops.data.formats import FORMATS, detect_format
from nlpops.errors import UsageError
from nlpops.models.target import require_target_label
from nlpops.outputs import check_out_dir
from nlpops.watch.aggregate import complete_windows, window_offset
from nlpops.watch.detect import Spike, SpikeDetector
from nlpops.watch.report import WatchResult, report_watch
from nlpops.watch.score import ALL, Untimed, WatchSpec, check_columns, to_utc


def spark_session(master: str = "local[*]") -> Any:
    """A Spark session on ``master`` with UTC times and Arrow transfers (the UI off)."""
    import os
    import sys

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers need this venv's nlpops
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName("nlpops-watch")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def read_posts(spark: Any, path: str | Path, spec: WatchSpec) -> Any:
    """The spec's columns of a Parquet, JSONL or CSV file as a Spark DataFrame."""
    resolved = resolve_path(path)
    layout = FORMATS[detect_format(resolved)].layout
    if layout == "parquet":
        frame = spark.read.parquet(str(resolved))
    elif layout == "jsonl":
        frame = spark.read.json(str(resolved))
    else:
        sep = "\t" if layout == "tsv" else ","
        frame = spark.read.csv(str(resolved), header=True, sep=sep, multiLine=True, escape='"')
    check_columns(resolved, list(frame.columns), spec)
    return frame


def score_spark(spark: Any, frame: Any, model_uri: str, spec: WatchSpec, negative_label: str | None) -> Any:
    """Score with the pyfunc UDF into ``time`` (UTC), ``group``, ``text``, ``label``, ``p_negative``."""
    import mlflow.pyfunc
    from pyspark.sql import functions as sf
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    from nlpops.tracking import load_estimator, setup_tracking

    setup_tracking()
    if "://" not in model_uri and ":/" not in model_uri and not (Path(model_uri) / "MLmodel").exists():
        raise UsageError(f"--engine spark needs an MLflow model (models:/…, runs:/…), not {model_uri}")
    model = load_estimator(model_uri).model
    classes = [str(c) for c in model.classes_]
    negative = require_target_label(model, negative_label)
    fields = [StructField("label", StringType())]
    fields += [StructField(f"proba_{c}", DoubleType()) for c in classes]
    udf = mlflow.pyfunc.spark_udf(spark, model_uri, result_type=StructType(fields), env_manager="local")
    # nondeterministic: Spark then evaluates each UDF once, not once per field read from its result
    udf = udf.asNondeterministic()

    parse_time = _time_parser()
    group = sf.coalesce(sf.col(spec.by).cast("string"), sf.lit("")) if spec.by else sf.lit(ALL)
    posts = frame.select(
        parse_time(sf.col(spec.time_col).cast("string")).alias("time"),
        group.alias("group"),
        sf.coalesce(sf.col(spec.text_col).cast("string"), sf.lit("")).alias("text"),
    ).where(sf.col("time").isNotNull())
    posts = posts.repartition(2 * spark.sparkContext.defaultParallelism)  # a one-row-group file is one task
    pred = udf(sf.struct(sf.col("text")))
    scored = posts.withColumn("pred", pred).select(
        "time", "group", "text", sf.col("pred.label").alias("label"),
        sf.col(f"pred.proba_{negative}").alias("p_negative"),
    )  # fmt: skip
    return scored.withColumn("is_negative", sf.col("label") == sf.lit(negative))


def _time_parser() -> Any:
    """The Spark column function that parses post times as the local engine does (:func:`to_utc`)."""
    from pyspark.sql import functions as sf

    @sf.pandas_udf("timestamp")  # type: ignore[call-overload]
    def parse_time(values: pd.Series) -> pd.Series:
        return to_utc(values.astype(str) if values.dtype == object else values)

    return parse_time.asNondeterministic()


def count_untimed(posts: Any, scored: Any, spec: WatchSpec) -> Untimed:
    """The posts read (``posts``) that scoring left out (``scored``) because their time does not parse."""
    from pyspark.sql import functions as sf

    total, kept = posts.count(), scored.count()
    if kept == total:
        return Untimed(0, total)
    raw = sf.col(spec.time_col).cast("string")
    first = posts.select(raw.alias("raw")).where(_time_parser()(raw).isNull()).first()
    return Untimed(total - kept, total, None if first is None else first["raw"])


def _length(window: str) -> pd.Timedelta:
    """A window's fixed length (Spark windows cannot be months or weeks anchored on a weekday)."""
    try:
        return pd.Timedelta(window_offset(window).nanos)
    except ValueError:
        raise UsageError(
            f"--window {window!r}: the Spark engine needs a fixed length (1h, 15min, 1D)"
        ) from None


def aggregate_spark(spark: Any, scored: Any, window: str) -> pd.DataFrame:
    """Per-window counts in Spark SQL, completed with the empty windows in pandas."""
    freq = window_offset(window)
    seconds = int(_length(window).total_seconds())
    scored.createOrReplaceTempView("watch_scored")
    counts = spark.sql(
        f"""SELECT `group`, window(time, '{seconds} seconds').start AS window,
                   count(*) AS volume, sum(CAST(is_negative AS INT)) AS negative, sum(p_negative) AS p_sum
            FROM watch_scored GROUP BY `group`, window(time, '{seconds} seconds')"""
    ).toPandas()
    counts["window"] = pd.to_datetime(counts["window"]).dt.tz_localize("UTC")
    return complete_windows(counts, freq)


def spike_negatives(scored: Any, spikes: Sequence[Spike], window: str, baseline_windows: int) -> pd.DataFrame:
    """The negative posts of the spikes' windows and baselines, collected to the driver."""
    from pyspark.sql import functions as sf

    columns = ["time", "group", "text", "p_negative"]
    if not spikes:
        return pd.DataFrame(columns=columns)
    freq = _length(window)
    ranges = pd.DataFrame(
        {
            "g": [s.group for s in spikes],
            "lo": [pd.Timestamp(s.window) - baseline_windows * freq for s in spikes],
            "hi": [pd.Timestamp(s.window) + freq for s in spikes],
        }
    )
    wanted = sf.broadcast(scored.sparkSession.createDataFrame(ranges))
    inside = (
        (sf.col("group") == wanted["g"]) & (sf.col("time") >= wanted["lo"]) & (sf.col("time") < wanted["hi"])
    )
    # a semi join keeps each post once, even where the ranges of consecutive spikes overlap
    rows = scored.where("is_negative").join(wanted, inside, "left_semi").select(columns)
    frame = rows.toPandas()
    frame["time"] = pd.to_datetime(frame["time"]).dt.tz_localize("UTC")
    return frame


def spark_watch(
    path: str | Path,
    model_uri: str,
    spec: WatchSpec,
    out_dir: Path,
    window: str,
    detector: SpikeDetector,
    negative_label: str | None,
    channels: Sequence[Channel],
    master: str,
) -> WatchResult:
    """The Spark engine of :func:`nlpops.watch.run_watch`; also writes ``<out_dir>/scored.parquet``."""
    spark = spark_session(master)
    posts = read_posts(spark, path, spec)
    scored = score_spark(spark, posts, model_uri, spec, negative_label)
    check_out_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staged = out_dir.parent / f".{out_dir.name}.scored.parquet.tmp"  # moved in once the report is written
    try:
        scored.write.mode("overwrite").parquet(str(staged))
        scored = spark.read.parquet(str(staged))  # score once, read back for the rest
        untimed = count_untimed(posts, scored, spec)
        untimed.check(path, spec.time_col)
        agg = aggregate_spark(spark, scored, window)
        spikes = detector.detect(agg)
        negatives = spike_negatives(scored, spikes, window, detector.baseline_windows)
        result = report_watch(agg, spikes, negatives, out_dir, window, detector, channels, str(path))
        result.untimed = untimed
        shutil.rmtree(out_dir / "scored.parquet", ignore_errors=True)
        staged.rename(out_dir / "scored.parquet")
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return result
