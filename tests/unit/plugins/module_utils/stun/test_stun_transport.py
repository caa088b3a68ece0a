# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the STUN transports: deadlines, stream framing and the mapping of socket errors."""

from __future__ import annotations

import errno
import socket
import ssl
import time

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.stun import codec, transport
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.transport import (
    Deadline,
    DatagramTransport,
    ProbeError,
    StreamTransport,
    Target,
    network_error,
)

MESSAGE = codec.encode_message(codec.BINDING, codec.SUCCESS, b"\x01" * 12, [(codec.SOFTWARE, b"abc")],
                               fingerprint=True)


class FakeClock(object):
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_deadline_counts_down_and_never_goes_negative():
    clock = FakeClock()
    deadline = Deadline(2.0, clock)
    assert deadline.remaining() == 2.0 and not deadline.expired()
    clock.now += 1.5
    assert deadline.remaining() == 0.5
    earlier = deadline.earlier(1.0)
    assert earlier.remaining() == 0.0 and earlier.expired()
    assert deadline.earlier(0.2).remaining() == pytest.approx(0.3)
    clock.now += 5
    assert deadline.remaining() == 0.0 and deadline.expired()


def test_target_defaults_the_port_by_transport():
    assert Target("h").port == 3478 and Target("h", transport="tcp").port == 3478
    assert Target("h", transport="tls").port == 5349 and Target("h", 443, "tls").port == 443
    assert Target("h", 0).port == 0
    assert Target("h", server_name="turn.test").tls_server_name == "turn.test"
    assert Target("h").tls_server_name == "h"


@pytest.mark.parametrize("exc, code", [
    (socket.timeout("timed out"), "timeout"),
    (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "connection_refused"),
    (ConnectionResetError(errno.ECONNRESET, "reset"), "connection_closed"),
    (BrokenPipeError(errno.EPIPE, "pipe"), "connection_closed"),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "unreachable"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "unreachable"),
    (OSError(errno.EACCES, "Permission denied"), "network_error"),
    (ssl.SSLError(1, "wrong version number"), "tls_handshake_failed"),
])
def test_network_errors_map_to_finding_codes(exc, code):
    error = network_error(exc, "talking to the server")
    assert error.code == code and "talking to the server" in error.detail


def test_certificate_errors_are_certificate_invalid():
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_message = "Hostname mismatch"
    assert network_error(exc, "TLS").code == "certificate_invalid"
    assert "Hostname mismatch" in network_error(exc, "TLS").detail


def test_tls_context_verifies_unless_told_not_to():
    assert transport.tls_context(Target("h", transport="tls")).verify_mode == ssl.CERT_REQUIRED
    relaxed = transport.tls_context(Target("h", transport="tls", validate_certs=False))
    assert relaxed.verify_mode == ssl.CERT_NONE and not relaxed.check_hostname


@pytest.fixture
def stream_pair():
    ours, theirs = socket.socketpair()
    yield StreamTransport(ours, Target("peer", 1, "tcp"), ("127.0.0.1", 1)), theirs
    ours.close()
    theirs.close()


def soon(seconds=1.0):
    return time.monotonic() + seconds


def test_stream_cuts_frames_from_pieces_and_batches(stream_pair):
    ours, theirs = stream_pair
    theirs.sendall(MESSAGE[:5])
    assert ours.receive(soon(0.05)) is None and ours.partial_frame
    theirs.sendall(MESSAGE[5:] + MESSAGE)
    assert ours.receive(soon()) == MESSAGE
    assert ours.receive(soon()) == MESSAGE and not ours.partial_frame


def test_stream_strips_channel_data_padding_once_a_channel_is_bound(stream_pair):
    ours, theirs = stream_pair
    ours.channel_data = True
    frame = codec.encode_channel_data(0x4000, b"abcde", pad=True)
    theirs.sendall(frame + MESSAGE)
    assert ours.receive(soon()) == frame
    assert codec.decode_channel_data(frame) == (0x4000, b"abcde")
    assert ours.receive(soon()) == MESSAGE


def test_stream_that_is_not_stun_is_malformed(stream_pair):
    ours, theirs = stream_pair
    theirs.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    with pytest.raises(ProbeError) as error:
        ours.receive(soon())
    assert error.value.code == "malformed_response"


def test_stream_closed_between_frames_or_inside_one(stream_pair):
    ours, theirs = stream_pair
    theirs.sendall(MESSAGE + MESSAGE[:10])
    theirs.close()
    assert ours.receive(soon()) == MESSAGE
    with pytest.raises(ProbeError) as error:
        ours.receive(soon())
    assert error.value.code == "malformed_response" and "middle of a frame" in error.value.detail


def test_stream_closed_cleanly_is_connection_closed():
    ours, theirs = socket.socketpair()
    stream = StreamTransport(ours, Target("peer", 1, "tcp"), ("127.0.0.1", 1))
    theirs.close()
    with pytest.raises(ProbeError) as error:
        stream.receive(soon())
    assert error.value.code == "connection_closed"
    ours.close()


def test_receive_after_until_returns_at_once(stream_pair):
    ours, _theirs = stream_pair
    start = time.monotonic()
    assert ours.receive(start - 1) is None
    assert time.monotonic() - start < 0.05


def test_send_after_the_deadline_is_a_timeout(stream_pair):
    ours, _theirs = stream_pair
    with pytest.raises(ProbeError) as error:
        ours.send(MESSAGE, Deadline(-1))
    assert error.value.code == "timeout"


def test_datagram_transport_receives_whole_datagrams():
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    datagrams = DatagramTransport(ours, Target("peer"), ("127.0.0.1", 1))
    theirs.send(MESSAGE)
    theirs.send(b"x")
    assert datagrams.receive(soon()) == MESSAGE
    assert datagrams.receive(soon()) == b"x"
    assert datagrams.receive(soon(0.05)) is None
    assert not datagrams.partial_frame
    ours.close()
    theirs.close()
