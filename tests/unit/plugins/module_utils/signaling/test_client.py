# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the probe's socket side: deadlines, buffered reads, CONNECT, the WebSocket echo.

Peers are socket pairs or sockets on 127.0.0.1; name resolution is a stand-in
for getaddrinfo, so the machine's resolver is never asked.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.signaling import client
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.signaling.servers import (
    Buffered,
    closed_tcp_port,
    read_client_frame,
    server_frame,
)


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_deadline_counts_down_and_expires():
    clock = FakeClock()
    deadline = client.Deadline(2.0, clock)
    assert deadline.remaining() == 2.0
    clock.now += 1.5
    assert deadline.remaining() == 0.5
    clock.now += 0.5
    with pytest.raises(client.StepTimeout, match="timed out after 2.0 s"):
        deadline.remaining()


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    yield client.Connection(ours), theirs
    ours.close()
    theirs.close()


def later(delay, action):
    """Run ``action`` in a thread after ``delay`` seconds (the peer's side of a test)."""
    thread = threading.Thread(target=lambda: (time.sleep(delay), action()), daemon=True)
    thread.start()
    return thread


# ---------------------------------------------------------------------------
# Resolving and connecting
# ---------------------------------------------------------------------------

def test_resolve_deduplicates(monkeypatch):
    def getaddrinfo(host, port, family, kind):
        assert (host, port, kind) == ("signal.dlegate.test", 443, socket.SOCK_STREAM)
        entry = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 443))
        return [entry, entry, (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 443, 0, 0))]

    monkeypatch.setattr(client.socket, "getaddrinfo", getaddrinfo)
    assert client.resolve("signal.dlegate.test", 443, client.Deadline(1)) == [
        (socket.AF_INET, ("127.0.0.1", 443)), (socket.AF_INET6, ("::1", 443, 0, 0))]


def test_resolve_failure(monkeypatch):
    def getaddrinfo(*args):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(client.socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(client.ResolveError, match="cannot resolve signal.dlegate.test: .*Name or service not known"):
        client.resolve("signal.dlegate.test", 443, client.Deadline(1))


def test_resolve_is_bounded_by_the_deadline(monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(client.socket, "getaddrinfo", lambda *args: release.wait(10) and [])
    start = time.monotonic()
    with pytest.raises(client.ResolveError, match="timed out after 0.3 s"):
        client.resolve("signal.dlegate.test", 443, client.Deadline(0.3))
    assert time.monotonic() - start < 1.5
    release.set()


def test_connect_reports_every_address_tried():
    port = closed_tcp_port()
    addresses = [(socket.AF_INET, ("127.0.0.1", port)), (socket.AF_INET, ("127.0.0.2", port))]
    with pytest.raises(client.StepError) as caught:
        client.connect(addresses, client.Deadline(2))
    assert str(caught.value) == "connect to port %d failed (127.0.0.1: Connection refused; 127.0.0.2: " \
        "Connection refused)" % port


def test_connect_takes_the_first_that_answers():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        sock, address = client.connect([(socket.AF_INET, ("127.0.0.1", closed_tcp_port())),
                                        (socket.AF_INET, ("127.0.0.1", port))], client.Deadline(2))
        assert address == "127.0.0.1"
        assert sock.getpeername() == ("127.0.0.1", port)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        sock.close()
    finally:
        listener.close()


# ---------------------------------------------------------------------------
# Buffered reads
# ---------------------------------------------------------------------------

def test_read_head_in_pieces_keeps_what_follows(pair):
    connection, peer = pair
    later(0.05, lambda: peer.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: web"))
    later(0.15, lambda: peer.sendall(b"socket\r\n\r\n\x81\x02hi"))
    response = connection.read_head(client.Deadline(2))
    assert response.status == 101
    assert bytes(connection.buffer) == b"\x81\x02hi"
    assert connection.read_frame(client.Deadline(1)).payload == b"hi"


def test_read_head_limit(pair):
    connection, peer = pair
    peer.sendall(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 40)
    with pytest.raises(ParseError, match="no end of the response head in 100 bytes"):
        connection.read_head(client.Deadline(1), limit=100)


def test_peer_closing_is_a_step_error(pair):
    connection, peer = pair
    peer.sendall(b"HTTP/1.1 200")
    peer.shutdown(socket.SHUT_WR)
    with pytest.raises(client.StepError, match="the peer closed the connection"):
        connection.read_head(client.Deadline(1))


def test_a_dripping_peer_cannot_stretch_the_deadline(pair):
    """One byte every 50 ms keeps each recv() short; the step's deadline still ends it."""
    connection, peer = pair
    stop = threading.Event()

    def drip():
        for byte in b"HTTP/1.1 200 OK\r\nX-Drip: " + b"a" * 1000:
            if stop.wait(0.05):
                return
            try:
                peer.send(bytes([byte]))
            except OSError:
                return

    threading.Thread(target=drip, daemon=True).start()
    start = time.monotonic()
    with pytest.raises(client.StepTimeout):
        connection.read_head(client.Deadline(0.5))
    stop.set()
    assert 0.45 <= time.monotonic() - start < 1.5


def test_send_is_bounded_when_the_peer_does_not_read(pair):
    connection, peer = pair
    start = time.monotonic()
    with pytest.raises(client.StepTimeout, match="sending timed out"):
        connection.send(b"x" * (64 * 1024 * 1024), client.Deadline(0.3))
    assert time.monotonic() - start < 1.5


# ---------------------------------------------------------------------------
# CONNECT
# ---------------------------------------------------------------------------

def proxy_answers(peer, answer):
    def act():
        Buffered(peer).read_until(b"\r\n\r\n")
        peer.sendall(answer)
    return later(0, act)


def test_tunnel_established(pair):
    connection, peer = pair
    proxy_answers(peer, b"HTTP/1.1 200 Connection established\r\n\r\n")
    assert client.tunnel(connection, "signal.dlegate.test", 443, client.Deadline(1)) == \
        "HTTP/1.1 200 Connection established"


@pytest.mark.parametrize("answer, message", [
    (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 403 Forbidden"),
    (b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", "HTTP/1.1 407 Proxy Authentication Required"),
    (b"\x16\x03\x01 not http\r\n\r\n", "not HTTP"),
    (b"HTTP/1.1 200 OK\r\n\r\nearly bytes", "sent data before the tunnel was used"),
])
def test_tunnel_refused(pair, answer, message):
    connection, peer = pair
    proxy_answers(peer, answer)
    with pytest.raises(client.ProxyRefused, match=message):
        client.tunnel(connection, "signal.dlegate.test", 443, client.Deadline(1))


def test_tunnel_without_answer(pair):
    connection, peer = pair
    with pytest.raises(client.ProxyRefused, match="no answer to CONNECT: no answer within 0.2 s"):
        client.tunnel(connection, "signal.dlegate.test", 443, client.Deadline(0.2))


# ---------------------------------------------------------------------------
# The WebSocket echo, against a peer written from the RFC in the test helpers
# ---------------------------------------------------------------------------

def websocket_peer(peer, frames_after_echo=None, before_echo=b""):
    """Accept the upgrade, record the client's frames and answer each text frame (an echo by default)."""
    seen = []

    def act():
        buffered = Buffered(peer)
        head = buffered.read_until(b"\r\n\r\n").decode("latin-1")
        key = [line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("sec-websocket-key")][0]
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        peer.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n" + before_echo)
        while True:
            try:
                opcode, masked, payload = read_client_frame(buffered)
            except (EOFError, OSError):
                return  # the client gave up on a bad answer
            seen.append((opcode, masked, payload))
            if opcode == 0x1:
                peer.sendall(frames_after_echo(payload) if frames_after_echo else server_frame(0x1, payload))
            if opcode == 0x8:
                return

    later(0, act)
    return seen


def test_echo_answers_pings_and_closes(pair):
    connection, peer = pair
    seen = websocket_peer(peer, before_echo=server_frame(0x9, b"are you there"))
    client.websocket_echo(connection, "/ws", "signal.dlegate.test", "hello", client.Deadline(2),
                          nonce=b"the sample nonce", mask_key=b"\x37\xfa\x21\x3d")
    deadline = time.monotonic() + 2
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    # the text went out right after the upgrade, the pong when the ping was read, then the close (1000);
    # every frame masked
    assert seen == [(0x1, True, b"hello"), (0xA, True, b"are you there"), (0x8, True, b"\x03\xe8")]


def test_echo_reassembles_fragments(pair):
    connection, peer = pair
    websocket_peer(peer, lambda payload: server_frame(0x1, payload[:2], fin=False) + server_frame(0xA, b"")
                   + server_frame(0x0, payload[2:]))
    response = client.websocket_echo(connection, "/ws", "signal.dlegate.test", "fragmented", client.Deadline(2))
    assert response.status == 101


@pytest.mark.parametrize("answer, error, message", [
    (lambda payload: server_frame(0x2, payload), client.StepError, "the echo differs"),
    (lambda payload: server_frame(0x1, payload + b"!"), client.StepError, "the echo differs"),
    (lambda payload: server_frame(0x8, b"\x03\xf3overloaded"), client.StepError, r"closed the WebSocket \(code 1011, overloaded\)"),
    (lambda payload: server_frame(0x0, payload), ParseError, "continuation frame out of sequence"),
    (lambda payload: server_frame(0x1, payload, fin=False) + server_frame(0x1, payload), ParseError,
     "new data frame out of sequence"),
    (lambda payload: server_frame(0x1, payload, mask=b"abcd"), ParseError, "a masked frame"),
])
def test_echo_failures(pair, answer, error, message):
    connection, peer = pair
    websocket_peer(peer, answer)
    with pytest.raises(error, match=message):
        client.websocket_echo(connection, "/ws", "signal.dlegate.test", "hello", client.Deadline(1))
