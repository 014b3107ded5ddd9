"""The live negative-share spike alert: the watch's detector on stored predictions, with a fake clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from api_support import FakeClock, RecordingChannel
from fastapi import FastAPI
from sqlalchemy import select

from nlpops.serve.db import Alert, Prediction, Store
from nlpops.serve.spikes import RULE, LiveSpikeConfig, LiveSpikeMonitor, check_served_model

CONFIG = LiveSpikeConfig(window=timedelta(minutes=5), baseline_windows=6, threshold=4.0, min_volume=10)


def _store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'spikes.db'}")
    assert store.check() is None
    return store


def _add(store: Store, clock: FakeClock, minutes_ago: float, n_neg: int, n_pos: int) -> None:
    at = clock.now - timedelta(minutes=minutes_ago)
    labels = ["negative"] * n_neg + ["positive"] * n_pos
    with store.session_factory() as session:
        session.add_all(
            Prediction(
                created_at=at, text_sha256="x", label=label, probabilities={}, model_name="m", latency_ms=1.0
            )
            for label in labels
        )
        session.commit()


def _history(store: Store, clock: FakeClock) -> None:
    for window in range(2, 8):  # six baseline windows: 20 % negative
        _add(store, clock, minutes_ago=window * 5 - 2, n_neg=6, n_pos=24)


def test_share_spike_fires_once_per_window(tmp_path: Path) -> None:
    store, clock, channel = _store(tmp_path), FakeClock(), RecordingChannel()
    _history(store, clock)
    _add(store, clock, minutes_ago=3, n_neg=25, n_pos=5)  # last complete window: 83 % negative
    monitor = LiveSpikeMonitor(CONFIG, [channel], clock=clock)
    with store.session_factory() as session:
        spike = monitor.check(session, "negative", "m")
        assert spike is not None and spike.observed == 25 and spike.volume == 30
        assert monitor.check(session, "negative", "m") is None  # same window: no second alert
        alerts = session.scalars(select(Alert)).all()
    assert [a.rule for a in alerts] == [RULE] and len(channel.sent) == 1
    assert "25 of 30" in channel.sent[0][1]
    store.close()


def test_traffic_rise_with_the_same_share_is_no_spike(tmp_path: Path) -> None:
    store, clock = _store(tmp_path), FakeClock()
    _history(store, clock)
    _add(store, clock, minutes_ago=3, n_neg=30, n_pos=120)  # five times the traffic, still 20 %
    with store.session_factory() as session:
        assert LiveSpikeMonitor(CONFIG, [], clock=clock).check(session, "negative", "m") is None
    store.close()


def test_app_wires_the_monitor_to_the_alert_channels(app: FastAPI, channel: RecordingChannel) -> None:
    monitor = app.state.spike_monitor
    assert isinstance(monitor, LiveSpikeMonitor) and monitor.channels == [channel]


def test_check_served_model_skips_without_a_model(tmp_path: Path) -> None:
    class NoModel:
        current = None

    check_served_model(LiveSpikeMonitor(CONFIG, []), lambda: None, NoModel())  # type: ignore[arg-type,return-value]


def test_live_rule_reads_the_settings() -> None:
    from datetime import timedelta

    from nlpops.serve.spikes import LiveSpikeConfig
    from nlpops.settings import Settings

    settings = Settings(_env_file=None, spike_window_min=15, spike_threshold=3.5, spike_interval_s=0)
    rule = LiveSpikeConfig.from_settings(settings)
    assert rule.window == timedelta(minutes=15) and rule.threshold == 3.5 and rule.interval_s == 0
