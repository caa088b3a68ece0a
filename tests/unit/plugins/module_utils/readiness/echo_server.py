# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""UDP echo servers on 127.0.0.1 for the ephemeral-range tests, one socket per port.

``behaviour`` per port: ``echo`` sends every datagram back; ``silent`` reads and
never answers (a firewall that drops); ``drop_first`` answers only from the
second datagram on (a lost first transmission); ``garbage`` answers with bytes
that are not the probe's; ``other_token`` echoes the datagram with another token.
``closed_udp_port`` gives a port nothing listens on (the kernel answers with
ICMP port unreachable).
"""

from __future__ import annotations

import select
import socket
import threading

from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.dns_server import closed_udp_port

__all__ = ["EchoServer", "closed_udp_port"]


class EchoServer(object):
    def __init__(self, behaviours):
        self.sockets = []
        self.ports = []
        self.behaviour = {}
        self.received = {}
        for behaviour in behaviours:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            self.sockets.append(sock)
            self.ports.append(port)
            self.behaviour[port] = behaviour
            self.received[port] = []
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
