# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Media-path quality from a train of probe packets: loss, round-trip time and jitter.

A train is a list of *samples*, one per packet sent, in send order:
``(sent_at_ms, received_at_ms)`` with ``received_at_ms`` None for a packet
that never came back. Times are milliseconds on one monotonic clock.
"""

from __future__ import annotations

import math


def loss_pct(sent, received):
    """Percentage of the sent packets that did not come back, 0.0 when nothing was sent."""
    if sent <= 0:
        return 0.0
    return round(100.0 * max(sent - received, 0) / sent, 2)


def percentile(values, pct):
    """Nearest-rank percentile of the values (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(int(math.ceil(pct / 100.0 * len(ordered))), 1)
    return ordered[rank - 1]


def rtt_stats(rtts_ms):
    """min, avg, max and p95 of round-trip times in ms, rounded to 0.01 ms; None values when empty."""
    if not rtts_ms:
        return {"min": None, "avg": None, "max": None, "p95": None}
    return {"min": round(min(rtts_ms), 2),
            "avg": round(sum(rtts_ms) / len(rtts_ms), 2),
            "max": round(max(rtts_ms), 2),
            "p95": round(percentile(rtts_ms, 95), 2)}


def interarrival_jitter(arrivals):
    """RFC 3550 (section 6.4.1) interarrival jitter in ms.

    ``arrivals`` are ``(sent_at_ms, received_at_ms)`` pairs in the order the
    packets arrived. For each consecutive pair D = (Rj - Ri) - (Sj - Si) and
    J += (|D| - J) / 16. On a round-trip train the transit is the RTT, so the
    jitter is that of the round trip."""
    jitter = 0.0
    previous = None
    for sent_at, received_at in arrivals:
        transit = received_at - sent_at
        if previous is not None:
            jitter += (abs(transit - previous) - jitter) / 16.0
        previous = transit
    return jitter


def summarize_train(samples):
    """sent, received, loss_pct, rtt_ms (min/avg/max/p95) and jitter_ms of a train."""
    answered = [(sent_at, received_at) for sent_at, received_at in samples if received_at is not None]
    in_arrival_order = sorted(answered, key=lambda pair: pair[1])
    return {
        "sent": len(samples),
        "received": len(answered),
        "loss_pct": loss_pct(len(samples), len(answered)),
        "rtt_ms": rtt_stats([received_at - sent_at for sent_at, received_at in answered]),
        "jitter_ms": round(interarrival_jitter(in_arrival_order), 2) if answered else None,
    }
