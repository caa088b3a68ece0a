# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""UDP echo servers on 127.0.0.1 for the ephemeral-range tests, one socket per port.

``behaviour`` per port: ``echo`` sends every datagram back; ``silent`` reads and
never answers (a firewall that drops); ``drop_first`` answers only from the
second datagram on (a lost first transmission); ``garbage`` answers with bytes
that are not the probe's; ``other_token`` echoes the datagram with another token.
With ``consecutive=True`` the ports follow each other, so that a range of
them is sampled whole. ``closed_udp_port`` gives a port nothing listens on (the
kernel answers with ICMP port unreachable).
"""

from __future__ import annotations

import errno
import random
import select
import socket
import threading

from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.dns_server import closed_udp_port

__all__ = ["EchoServer", "closed_udp_port"]


def bind_consecutive(count, attempts=50):
    """``count`` UDP sockets on 127.0.0.1 bound to consecutive ports below the kernel's ephemeral range."""
    for _attempt in range(attempts):
        base = random.randint(20000, 30000)
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return sockets
        except OSError as exc:
            for sock in sockets:
                sock.close()
            if exc.errno != errno.EADDRINUSE:
                raise
    raise RuntimeError("no %d consecutive free UDP ports" % count)


def bind_any(count):
    sockets = []
    for _index in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
    return sockets


class EchoServer(object):
    def __init__(self, behaviours, consecutive=False):
        self.sockets = (bind_consecutive if consecutive else bind_any)(len(behaviours))
        self.ports = [sock.getsockname()[1] for sock in self.sockets]
        self.behaviour = dict(zip(self.ports, behaviours))
        self.received = dict((port, []) for port in self.ports)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        self.thread.join(2)
        for sock in self.sockets:
            sock.close()

    def _serve(self):
        while not self.stopping.is_set():
            readable = select.select(self.sockets, [], [], 0.05)[0]
            for sock in readable:
                data, peer = sock.recvfrom(2048)
                port = self.ports[self.sockets.index(sock)]
                self.received[port].append(data)
                answer = self.answer(self.behaviour[port], data, len(self.received[port]))
                if answer is not None:
                    sock.sendto(answer, peer)

    @staticmethod
    def answer(behaviour, data, count):
        if behaviour == "echo":
            return data
        if behaviour == "drop_first":
            return data if count > 1 else None
        if behaviour == "garbage":
            return b"\x00garbage" + data[:3]
        if behaviour == "other_token":
            return data[:4] + b"\xff" * 8 + data[12:]
        return None
