#!/usr/bin/env python3
"""A media-like UDP flow against an echo: loss, RFC 3550 jitter and RTT of what comes back.

Every 20 ms (like RTP audio and video frames) it sends a frame of the given rate,
split into packets of at most --max-packet bytes, from a fixed source port (the
port a DLEGATE client uses for the media type, so that the QoS marking matches
it), and waits for each packet to come back from the echo. Sizes count whole IPv4
packets (20 bytes of IP and 8 of UDP headers included), as a shaper does.

  python3 media_flow.py HOST PORT --rate-kbps 760 [--seconds 8] [--source-port 50000]

Prints one JSON object: the flow's shape, and sent, received, loss_pct, rtt_ms
(min/avg/max/p95) and jitter_ms as ``quality.summarize_train`` computes them
(quality.py must sit next to this file: it is the collection's
plugins/module_utils/common/quality.py). jitter_ms is RFC 3550's running estimate
when the flow ends; jitter_max_ms is the highest it reached on the way. Exits 2 on
its own errors.
"""

import argparse
import json
import math
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quality  # noqa: E402  pylint: disable=wrong-import-position

HEADERS = 28          # IPv4 + UDP
SEQUENCE = struct.Struct("!Q")
MIN_PACKET = HEADERS + SEQUENCE.size


def frame_shape(rate_kbps, interval_ms, max_packet):
    """(packets per frame, bytes per packet) that carry rate_kbps in frames every interval_ms."""
    frame_bytes = rate_kbps * 1000.0 / 8 * interval_ms / 1000.0
    packets = max(1, int(math.ceil(frame_bytes / max_packet)))
    return packets, max(MIN_PACKET, int(round(frame_bytes / packets)))


def payload(sequence, size):
    return SEQUENCE.pack(sequence) + b"\0" * (size - HEADERS - SEQUENCE.size)


class Train:
    """Send times by sequence number, and the first echo of each."""

    def __init__(self):
        self.sent = []
        self.received = {}

    def send(self, now_ms):
        self.sent.append(now_ms)
        return len(self.sent) - 1

    def echo(self, data, now_ms):
        if len(data) < SEQUENCE.size:
            return
        sequence = SEQUENCE.unpack_from(data)[0]
        if sequence < len(self.sent) and sequence not in self.received:
            self.received[sequence] = now_ms

    def samples(self):
        return [(sent, self.received.get(sequence)) for sequence, sent in enumerate(self.sent)]


def jitter_max(samples):
    """The highest value RFC 3550's running jitter estimate took over the train, in ms."""
    arrivals = sorted(((sent, received) for sent, received in samples if received is not None),
                      key=lambda pair: pair[1])
    highest = 0.0
    for end in range(2, len(arrivals) + 1):
        highest = max(highest, quality.interarrival_jitter(arrivals[:end]))
    return round(highest, 2)


def now_ms():
    return time.monotonic() * 1000.0


def drain(sock, train):
    while True:
        try:
            data = sock.recv(65535)
        except BlockingIOError:
            return
        except OSError:   # an ICMP error for an earlier packet: that packet is lost, the flow goes on
            continue
        train.echo(data, now_ms())


def run_flow(sock, seconds, interval_ms, packets, size, wait):
    """Send the frames on an absolute schedule, collect echoes meanwhile and for ``wait`` seconds after."""
    train = Train()
    frames = int(round(seconds * 1000.0 / interval_ms))
    start = now_ms()
    for frame in range(frames):
        due = start + frame * interval_ms
        while now_ms() < due:
            if select.select([sock], [], [], max(0.0, (due - now_ms()) / 1000.0))[0]:
                drain(sock, train)
        for _packet in range(packets):
            sequence = train.send(now_ms())
            try:
                sock.send(payload(sequence, size))
            except OSError:   # a full local queue drops the packet, as it would drop a media packet
                pass
    deadline = now_ms() + wait * 1000.0
    while now_ms() < deadline:
        if select.select([sock], [], [], max(0.0, (deadline - now_ms()) / 1000.0))[0]:
            drain(sock, train)
    return train


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--rate-kbps", type=float, required=True)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--interval-ms", type=float, default=20.0)
    parser.add_argument("--max-packet", type=int, default=1200)
    parser.add_argument("--source-port", type=int, default=0)
    parser.add_argument("--wait", type=float, default=1.0, help="seconds to wait for echoes after the last frame")
    args = parser.parse_args(argv)
    if args.rate_kbps <= 0 or args.seconds <= 0 or args.interval_ms <= 0 or args.max_packet < MIN_PACKET:
        parser.error("rate, seconds and interval must be above 0, and max-packet at least %d" % MIN_PACKET)
    return args


def main(argv=None):
    try:
        args = parse_args(argv)
        packets, size = frame_shape(args.rate_kbps, args.interval_ms, args.max_packet)
        address = socket.getaddrinfo(args.host, args.port, socket.AF_INET, socket.SOCK_DGRAM)[0][4]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("0.0.0.0", args.source_port))
            sock.connect(address)
            sock.setblocking(False)
            train = run_flow(sock, args.seconds, args.interval_ms, packets, size, args.wait)
    except (OSError, ValueError) as exc:
        print("error: %s: %s" % (type(exc).__name__, exc), file=sys.stderr)
        return 2
    result = {"rate_kbps": args.rate_kbps, "interval_ms": args.interval_ms, "packets_per_frame": packets,
              "packet_bytes": size, "source_port": args.source_port}
    samples = train.samples()
    result.update(quality.summarize_train(samples), jitter_max_ms=jitter_max(samples))
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
