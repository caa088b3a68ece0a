# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RFC 6455 WebSocket for a client: the opening handshake and the frame codec.

Pure functions on bytes; the socket side is in client.py. A peer that breaks
the protocol raises ParseError (the client then fails the connection, as the
RFC asks).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections import namedtuple

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.signaling.http import (
    header_tokens,
    header_value,
    request_head,
    status_line,
)

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
VERSION = "13"

CONTINUATION = 0x0
TEXT = 0x1
BINARY = 0x2
CLOSE = 0x8
PING = 0x9
PONG = 0xA
DATA_OPCODES = (CONTINUATION, TEXT, BINARY)
CONTROL_OPCODES = (CLOSE, PING, PONG)
MAX_CONTROL_PAYLOAD = 125
DEFAULT_MAX_PAYLOAD = 1024 * 1024
NORMAL_CLOSURE = 1000

Frame = namedtuple("Frame", "fin opcode payload")


# ---------------------------------------------------------------------------
# Opening handshake (section 4)
# ---------------------------------------------------------------------------

def new_key(nonce):
    """Sec-WebSocket-Key: base64 of a 16-byte random nonce."""
    if len(nonce) != 16:
        raise ValueError("the nonce must be 16 bytes, not %d" % len(nonce))
    return base64.b64encode(bytes(nonce)).decode("ascii")


def accept_key(key):
    """Sec-WebSocket-Accept the server must answer to ``key``: base64(SHA-1(key + GUID))."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def handshake_request(path, host, key):
    """The client's opening handshake (no extensions, no subprotocol)."""
    return request_head("GET", path, host, [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", VERSION),
    ])


def check_handshake(response, key):
    """Raise ParseError unless ``response`` (an http.Response) accepts the upgrade asked with ``key``."""
    if response.status != 101:
        raise ParseError("the server answered %s instead of 101 Switching Protocols" % status_line(response))
    if "websocket" not in header_tokens(response, "Upgrade"):
        raise ParseError("the 101 answer has no Upgrade: websocket header")
    if "upgrade" not in header_tokens(response, "Connection"):
        raise ParseError("the 101 answer has no Connection: Upgrade header")
    expected, accept = accept_key(key), header_value(response, "Sec-WebSocket-Accept")
    if accept != expected:
        raise ParseError("wrong Sec-WebSocket-Accept %r, expected %r" % (accept, expected))
    for name in ("Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol"):
        if header_value(response, name):
            raise ParseError("the server chose %s %r, which the client did not offer" % (name, header_value(response, name)))


# ---------------------------------------------------------------------------
# Frames (section 5)
# ---------------------------------------------------------------------------

def apply_mask(payload, mask_key):
    """XOR ``payload`` with the 4-byte ``mask_key`` (masking and unmasking are the same)."""
    size = len(payload)
    if not size:
        return b""
    key = (bytes(mask_key) * (size // 4 + 1))[:size]
    return (int.from_bytes(bytes(payload), "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


def encode_frame(opcode, payload, mask_key=None, fin=True):
    """One frame; a client passes a fresh random 4-byte ``mask_key`` for every frame it sends."""
    payload = bytes(payload)
    if opcode not in DATA_OPCODES + CONTROL_OPCODES:
        raise ValueError("unknown opcode 0x%x" % opcode)
    if opcode in CONTROL_OPCODES and (not fin or len(payload) > MAX_CONTROL_PAYLOAD):
        raise ValueError("a control frame is final and carries at most %d bytes" % MAX_CONTROL_PAYLOAD)
    if mask_key is not None and len(mask_key) != 4:
        raise ValueError("the mask key must be 4 bytes")
    head = bytearray([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if mask_key is not None else 0
    size = len(payload)
    if size < 126:
        head.append(mask_bit | size)
    elif size < 65536:
        head.append(mask_bit | 126)
        head += struct.pack("!H", size)
    else:
        head.append(mask_bit | 127)
        head += struct.pack("!Q", size)
    if mask_key is None:
        return bytes(head) + payload
    return bytes(head) + bytes(mask_key) + apply_mask(payload, mask_key)


def decode_frame(data, expect_masked=False, max_payload=DEFAULT_MAX_PAYLOAD):
    """The frame at the start of ``data`` -> (Frame, bytes used), or (None, 0) while it is incomplete.

    A client expects unmasked frames (``expect_masked=False``); a server masked
    ones. Raises ParseError on anything section 5 forbids.
    """
    data = bytes(data)
    if len(data) < 2:
        return None, 0
    first, second = data[0], data[1]
    fin, opcode = bool(first & 0x80), first & 0x0F
    if first & 0x70:
        raise ParseError("reserved bits 0x%02x set, and no extension was negotiated" % (first & 0x70))
    if opcode not in DATA_OPCODES + CONTROL_OPCODES:
        raise ParseError("unknown opcode 0x%x" % opcode)
    masked, size = bool(second & 0x80), second & 0x7F
    if masked != expect_masked:
        raise ParseError("%s frame where %s ones are expected" % ("a masked" if masked else "an unmasked",
                                                                  "masked" if expect_masked else "unmasked"))
    if opcode in CONTROL_OPCODES and (not fin or size > MAX_CONTROL_PAYLOAD):
        raise ParseError("control frame 0x%x is fragmented or longer than %d bytes" % (opcode, MAX_CONTROL_PAYLOAD))
    offset = 2
    if size == 126:
        if len(data) < 4:
            return None, 0
        size, offset = struct.unpack("!H", data[2:4])[0], 4
        if size < 126:
            raise ParseError("a 16-bit length of %d (the length must use the fewest bytes)" % size)
    elif size == 127:
        if len(data) < 10:
            return None, 0
        size, offset = struct.unpack("!Q", data[2:10])[0], 10
        if size >> 63 or size < 65536:
            raise ParseError("a 64-bit length of %d (the top bit is 0 and the fewest bytes are used)" % size)
    if size > max_payload:
        raise ParseError("a frame of %d bytes, more than the %d this client accepts" % (size, max_payload))
    mask_key = b""
    if masked:
        if len(data) < offset + 4:
            return None, 0
        mask_key, offset = data[offset:offset + 4], offset + 4
    if len(data) < offset + size:
        return None, 0
    payload = data[offset:offset + size]
    return Frame(fin, opcode, apply_mask(payload, mask_key) if masked else payload), offset + size


def close_payload(code=NORMAL_CLOSURE, reason=""):
    """The body of a Close frame: a 2-byte status code and a UTF-8 reason."""
    return struct.pack("!H", code) + reason.encode("utf-8")


def parse_close(payload):
    """(status code or None, reason) of a Close frame's body."""
    if not payload:
        return None, ""
    if len(payload) == 1:
        raise ParseError("a Close frame body of 1 byte")
    return struct.unpack("!H", bytes(payload[:2]))[0], bytes(payload[2:]).decode("utf-8", "replace")
