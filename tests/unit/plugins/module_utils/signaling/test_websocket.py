# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the RFC 6455 codec, with the RFC's own examples as test vectors."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.signaling import http
from ansible_collections.dlegate.rtc.plugins.module_utils.signaling import websocket as ws

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
RFC_MASK = bytes.fromhex("37fa213d")


# ---------------------------------------------------------------------------
# Opening handshake: RFC 6455 sections 1.3 and 4.1
# ---------------------------------------------------------------------------

def test_accept_key_rfc_vector():
    assert ws.accept_key(RFC_KEY) == RFC_ACCEPT


def test_new_key_is_the_base64_nonce():
    # the RFC's sample key is the base64 of the nonce "the sample nonce"
    assert ws.new_key(b"the sample nonce") == RFC_KEY
    with pytest.raises(ValueError):
        ws.new_key(b"short")


def test_handshake_request():
    head = ws.handshake_request("/ws", "signal.dlegate.test", RFC_KEY).decode("latin-1")
    lines = head.split("\r\n")
    assert lines[0] == "GET /ws HTTP/1.1"
    assert head.endswith("\r\n\r\n")
    for line in ("Host: signal.dlegate.test", "Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: " + RFC_KEY, "Sec-WebSocket-Version: 13"):
        assert line in lines


def response(status=101, reason="Switching Protocols", **headers):
    fields = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": RFC_ACCEPT}
    fields.update((name.replace("_", "-"), value) for name, value in headers.items())
    head = "HTTP/1.1 %d %s\r\n" % (status, reason)
    head += "".join("%s: %s\r\n" % (name, value) for name, value in fields.items() if value is not None)
    return http.parse_response_head(head.encode("latin-1") + b"\r\n")


def test_check_handshake_accepts_the_rfc_answer():
    ws.check_handshake(response(), RFC_KEY)
    ws.check_handshake(response(Upgrade="WebSocket", Connection="keep-alive, Upgrade"), RFC_KEY)


@pytest.mark.parametrize("answer, message", [
    (dict(status=200, reason="OK"), "answered HTTP/1.1 200 OK instead of 101"),
    (dict(status=426, reason="Upgrade Required"), "426 Upgrade Required"),
    (dict(Upgrade=None), "no Upgrade: websocket"),
    (dict(Upgrade="h2c"), "no Upgrade: websocket"),
    (dict(Connection="close"), "no Connection: Upgrade"),
    (dict(Sec_WebSocket_Accept=None), "wrong Sec-WebSocket-Accept None"),
    (dict(Sec_WebSocket_Accept="s3pPLMBiTxaQ9kYGzzhZRbK+xOo"), "wrong Sec-WebSocket-Accept"),
    (dict(Sec_WebSocket_Extensions="permessage-deflate"), "did not offer"),
    (dict(Sec_WebSocket_Protocol="chat"), "did not offer"),
])
def test_check_handshake_rejects(answer, message):
    status = answer.pop("status", 101)
    reason = answer.pop("reason", "Switching Protocols")
    with pytest.raises(ParseError, match=message):
        ws.check_handshake(response(status, reason, **answer), RFC_KEY)


# ---------------------------------------------------------------------------
# Frames: the examples of RFC 6455 section 5.7
# ---------------------------------------------------------------------------

RFC_FRAMES = [
    # (bytes, expect_masked, opcode, fin, payload)
    ("810548656c6c6f", False, ws.TEXT, True, b"Hello"),                      # single-frame unmasked text
    ("818537fa213d7f9f4d5158", True, ws.TEXT, True, b"Hello"),               # single-frame masked text
    ("010348656c", False, ws.TEXT, False, b"Hel"),                           # fragmented, first
    ("80026c6f", False, ws.CONTINUATION, True, b"lo"),                       # fragmented, last
    ("890548656c6c6f", False, ws.PING, True, b"Hello"),                      # unmasked ping
    ("8a8537fa213d7f9f4d5158", True, ws.PONG, True, b"Hello"),               # masked pong
]


@pytest.mark.parametrize("hex_frame, masked, opcode, fin, payload", RFC_FRAMES)
def test_rfc_examples_decode(hex_frame, masked, opcode, fin, payload):
    data = bytes.fromhex(hex_frame)
    frame, used = ws.decode_frame(data + b"trailing", expect_masked=masked)
    assert frame == ws.Frame(fin, opcode, payload)
    assert used == len(data)


@pytest.mark.parametrize("hex_frame, masked, opcode, fin, payload", RFC_FRAMES)
def test_rfc_examples_encode(hex_frame, masked, opcode, fin, payload):
    assert ws.encode_frame(opcode, payload, RFC_MASK if masked else None, fin).hex() == hex_frame


def test_rfc_binary_lengths():
    """256 bytes take a 16-bit length (0x7E 0x0100), 64 KiB a 64-bit one (0x7F 0x0000000000010000)."""
    assert ws.encode_frame(ws.BINARY, bytes(256))[:4] == bytes.fromhex("827e0100")
    big = ws.encode_frame(ws.BINARY, bytes(65536))
    assert big[:10] == bytes.fromhex("827f0000000000010000")
    assert ws.decode_frame(big) == (ws.Frame(True, ws.BINARY, bytes(65536)), 65546)


def test_incomplete_frames_wait_for_more():
    data = ws.encode_frame(ws.BINARY, bytes(300), RFC_MASK)
    for cut in range(len(data)):
        assert ws.decode_frame(data[:cut], expect_masked=True) == (None, 0)
    assert ws.decode_frame(data, expect_masked=True)[1] == len(data)


@pytest.mark.parametrize("hex_frame, masked, message", [
    ("c10548656c6c6f", False, "reserved bits 0x40"),
    ("b10548656c6c6f", False, "reserved bits 0x30"),
    ("830548656c6c6f", False, "unknown opcode 0x3"),
    ("8b0548656c6c6f", False, "unknown opcode 0xb"),
    ("818537fa213d7f9f4d5158", False, "a masked frame where unmasked"),
    ("810548656c6c6f", True, "an unmasked frame where masked"),
    ("097e" + "00" * 130, False, "control frame 0x9"),
    ("0900", False, "control frame 0x9 is fragmented"),
    ("827e007d" + "00" * 125, False, "16-bit length of 125"),
    ("827f000000000000ffff", False, "64-bit length of 65535"),
    ("827f8000000000000000", False, "64-bit length"),
])
def test_protocol_violations(hex_frame, masked, message):
    with pytest.raises(ParseError, match=message):
        ws.decode_frame(bytes.fromhex(hex_frame), expect_masked=masked)


def test_payload_limit():
    frame = ws.encode_frame(ws.BINARY, bytes(2000))
    with pytest.raises(ParseError, match="more than the 1000"):
        ws.decode_frame(frame, max_payload=1000)
    # the limit applies before the payload arrives
    with pytest.raises(ParseError):
        ws.decode_frame(frame[:4], max_payload=1000)


@pytest.mark.parametrize("opcode, payload, fin, mask", [
    (0x3, b"", True, None),
    (ws.PING, bytes(126), True, None),
    (ws.CLOSE, b"", False, None),
    (ws.TEXT, b"x", True, b"abc"),
])
def test_encode_rejects(opcode, payload, fin, mask):
    with pytest.raises(ValueError):
        ws.encode_frame(opcode, payload, mask, fin)


def test_close_payload():
    assert ws.close_payload() == b"\x03\xe8"
    assert ws.parse_close(ws.close_payload(1011, "overloaded")) == (1011, "overloaded")
    assert ws.parse_close(b"") == (None, "")
    with pytest.raises(ParseError):
        ws.parse_close(b"\x03")


def test_apply_mask_is_its_own_inverse():
    assert ws.apply_mask(b"Hello", RFC_MASK) == bytes.fromhex("7f9f4d5158")
    assert ws.apply_mask(bytes.fromhex("7f9f4d5158"), RFC_MASK) == b"Hello"
    assert ws.apply_mask(b"", RFC_MASK) == b""


# ---------------------------------------------------------------------------
# Properties and fuzzing
# ---------------------------------------------------------------------------

data_frames = st.tuples(st.sampled_from([ws.CONTINUATION, ws.TEXT, ws.BINARY]), st.binary(max_size=70000),
                        st.booleans())
control_frames = st.tuples(st.sampled_from([ws.CLOSE, ws.PING, ws.PONG]), st.binary(max_size=125), st.just(True))


@settings(max_examples=150, deadline=None, database=None)
@given(st.one_of(data_frames, control_frames), st.one_of(st.none(), st.binary(min_size=4, max_size=4)))
def test_round_trip(frame, mask):
    opcode, payload, fin = frame
    encoded = ws.encode_frame(opcode, payload, mask, fin)
    assert ws.decode_frame(encoded + b"\x81", expect_masked=mask is not None, max_payload=1 << 20) == (
        ws.Frame(fin, opcode, payload), len(encoded))


@settings(max_examples=500, deadline=None, database=None)
@given(st.binary(max_size=64), st.booleans())
def test_fuzz_decoder_never_crashes(data, masked):
    try:
        frame, used = ws.decode_frame(data, expect_masked=masked)
    except ParseError:
        return
    if frame is None:
        assert used == 0
        return
    assert 2 <= used <= len(data)
    assert frame.opcode in ws.DATA_OPCODES + ws.CONTROL_OPCODES
    # what was decoded encodes back to the same bytes (masked frames: with the same key)
    mask = data[used - len(frame.payload) - 4:used - len(frame.payload)] if masked else None
    assert ws.encode_frame(frame.opcode, frame.payload, mask, frame.fin) == bytes(data[:used])


@settings(max_examples=200, deadline=None, database=None)
@given(st.binary(min_size=2, max_size=12), st.integers(0, 2 ** 64 - 1))
def test_fuzz_length_fields(head, length):
    """Arbitrary extended lengths: a frame, a wait for more, or ParseError; never an exception of another kind."""
    data = bytes([head[0]]) + bytes([(head[1] & 0x80) | 127]) + struct.pack("!Q", length) + head[2:]
    try:
        frame, used = ws.decode_frame(data, expect_masked=bool(head[1] & 0x80))
    except ParseError:
        return
    assert frame is None and used == 0
