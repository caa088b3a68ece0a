# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the media-quality statistics: loss, RTT percentiles, RFC 3550 jitter."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common import quality


@pytest.mark.parametrize("sent, received, expected", [
    (0, 0, 0.0), (10, 10, 0.0), (10, 9, 10.0), (3, 1, 66.67), (10, 0, 100.0), (5, 7, 0.0),
])
def test_loss_pct(sent, received, expected):
    assert quality.loss_pct(sent, received) == expected


@pytest.mark.parametrize("values, pct, expected", [
    ([], 95, None),
    ([7.0], 95, 7.0),
    (list(range(1, 101)), 95, 95),
    (list(range(1, 21)), 95, 19),      # rank ceil(0.95 * 20) = 19
    ([5, 1, 3, 2, 4], 50, 3),
    ([5, 1, 3, 2, 4], 100, 5),
    ([5, 1, 3, 2, 4], 0, 1),
])
def test_percentile_is_nearest_rank(values, pct, expected):
    assert quality.percentile(values, pct) == expected


def test_rtt_stats():
    assert quality.rtt_stats([]) == {"min": None, "avg": None, "max": None, "p95": None}
    assert quality.rtt_stats([10.0, 30.0, 20.0, 12.345]) == {"min": 10.0, "avg": 18.09, "max": 30.0, "p95": 30.0}


def test_jitter_follows_rfc3550_estimator():
    # transits 10, 12, 11 ms: D = 2 then 1; J = 2/16 = 0.125, then 0.125 + (1 - 0.125)/16
    arrivals = [(0.0, 10.0), (20.0, 32.0), (40.0, 51.0)]
    assert quality.interarrival_jitter(arrivals) == pytest.approx(0.125 + 0.875 / 16)


def test_jitter_of_a_steady_stream_is_zero_and_of_one_packet_too():
    assert quality.interarrival_jitter([(i * 20.0, i * 20.0 + 5.0) for i in range(50)]) == 0.0
    assert quality.interarrival_jitter([(0.0, 3.0)]) == 0.0
    assert quality.interarrival_jitter([]) == 0.0


def test_jitter_converges_towards_the_mean_transit_difference():
    # transits alternate 10 and 14 ms: |D| is always 4, J tends to 4
    arrivals = [(i * 20.0, i * 20.0 + (10.0 if i % 2 else 14.0)) for i in range(400)]
    assert quality.interarrival_jitter(arrivals) == pytest.approx(4.0, abs=1e-6)


def test_summarize_train_counts_losses_and_orders_arrivals():
    samples = [(0.0, 10.0), (20.0, None), (40.0, 52.0), (60.0, 71.0)]
    summary = quality.summarize_train(samples)
    assert summary["sent"] == 4 and summary["received"] == 3 and summary["loss_pct"] == 25.0
    assert summary["rtt_ms"] == {"min": 10.0, "avg": 11.0, "max": 12.0, "p95": 12.0}
    assert summary["jitter_ms"] == round(quality.interarrival_jitter([(0.0, 10.0), (40.0, 52.0), (60.0, 71.0)]), 2)


def test_summarize_train_reorders_by_arrival():
    # the second packet overtook the first: jitter is computed in arrival order
    samples = [(0.0, 30.0), (20.0, 25.0)]
    assert quality.summarize_train(samples)["jitter_ms"] == round(quality.interarrival_jitter(
        [(20.0, 25.0), (0.0, 30.0)]), 2)


def test_summarize_an_empty_or_silent_train():
    assert quality.summarize_train([]) == {"sent": 0, "received": 0, "loss_pct": 0.0, "jitter_ms": None,
                                           "rtt_ms": {"min": None, "avg": None, "max": None, "p95": None}}
    silent = quality.summarize_train([(0.0, None), (20.0, None)])
    assert silent["loss_pct"] == 100.0 and silent["received"] == 0 and silent["jitter_ms"] is None


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(0, 1e6), st.one_of(st.none(), st.floats(0, 1e4))), max_size=60))
def test_summaries_are_consistent(raw):
    samples = [(sent, None if rtt is None else sent + rtt) for sent, rtt in raw]
    summary = quality.summarize_train(samples)
    assert summary["received"] == sum(1 for _s, r in samples if r is not None)
    assert 0.0 <= summary["loss_pct"] <= 100.0
    stats = summary["rtt_ms"]
    if summary["received"]:
        assert stats["min"] <= stats["p95"] <= stats["max"]
        assert stats["min"] <= stats["avg"] + 0.01 and stats["avg"] <= stats["max"] + 0.01
        assert 0.0 <= summary["jitter_ms"] <= stats["max"] - stats["min"] + 0.01
