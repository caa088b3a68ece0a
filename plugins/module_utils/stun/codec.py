# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""STUN (RFC 8489) and TURN (RFC 8656) messages on the wire, as pure functions.

Encoding builds bytes from a method, a class, a transaction id and a list of
``(type, value)`` attributes, optionally closed by MESSAGE-INTEGRITY and
FINGERPRINT. Decoding turns untrusted bytes into a :class:`StunMessage` or
raises :class:`ParseError`; it never trusts a length it has not checked.
TURN's ChannelData frames and the framing of both on a byte stream (TCP, TLS)
live here too, as do the long-term and REST credentials.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import stringprep
import struct
import unicodedata

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError

MAGIC_COOKIE = 0x2112A442
MAGIC_COOKIE_BYTES = struct.pack("!I", MAGIC_COOKIE)
HEADER_LENGTH = 20
TRANSACTION_ID_LENGTH = 12
FINGERPRINT_XOR = 0x5354554E
INTEGRITY_LENGTH = 20
MAX_MESSAGE_LENGTH = 65535 + HEADER_LENGTH

# classes
REQUEST = 0
INDICATION = 1
SUCCESS = 2
ERROR = 3
CLASS_NAMES = {REQUEST: "request", INDICATION: "indication", SUCCESS: "success", ERROR: "error"}

# methods
BINDING = 0x001
ALLOCATE = 0x003
REFRESH = 0x004
SEND = 0x006
DATA = 0x007
CREATE_PERMISSION = 0x008
CHANNEL_BIND = 0x009

# attributes
MAPPED_ADDRESS = 0x0001
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
CHANNEL_NUMBER = 0x000C
LIFETIME = 0x000D
XOR_PEER_ADDRESS = 0x0012
DATA_ATTRIBUTE = 0x0013
REALM = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_TRANSPORT = 0x0019
MESSAGE_INTEGRITY_SHA256 = 0x001C
XOR_MAPPED_ADDRESS = 0x0020
SOFTWARE = 0x8022
FINGERPRINT = 0x8028

FAMILY_IPV4 = 0x01
FAMILY_IPV6 = 0x02
UDP_PROTOCOL = 17

# ChannelData: channel numbers 0x4000-0x4FFF (RFC 8656 section 12)
CHANNEL_MIN = 0x4000
CHANNEL_MAX = 0x4FFF
CHANNEL_HEADER_LENGTH = 4


class StunAttribute(object):
    """One attribute as read: its type, its value (padding removed) and where its header starts."""

    __slots__ = ("type", "value", "offset")

    def __init__(self, attr_type, value, offset):
        self.type = attr_type
        self.value = value
        self.offset = offset

    def __repr__(self):
        return "StunAttribute(0x%04x, %r)" % (self.type, self.value)


class StunMessage(object):
    """A decoded STUN message. ``raw`` keeps the bytes for integrity checks."""

    __slots__ = ("method", "message_class", "transaction_id", "attributes", "raw")

    def __init__(self, method, message_class, transaction_id, attributes, raw):
        self.method = method
        self.message_class = message_class
        self.transaction_id = transaction_id
        self.attributes = attributes
        self.raw = raw

    def get(self, attr_type):
        """The value of the first attribute of that type, or None."""
        for attribute in self.attributes:
            if attribute.type == attr_type:
                return attribute.value
        return None

    def find(self, attr_type):
        for attribute in self.attributes:
            if attribute.type == attr_type:
                return attribute
        return None

    def __repr__(self):
        return "StunMessage(0x%03x, %s, %s, %r)" % (
            self.method, CLASS_NAMES[self.message_class], binascii.hexlify(self.transaction_id), self.attributes)


# ---------------------------------------------------------------------------
# message type
# ---------------------------------------------------------------------------

def message_type(method, message_class):
    """Interleave the 12 method bits and the 2 class bits (RFC 8489 section 5)."""
    if not 0 <= method <= 0xFFF or message_class not in CLASS_NAMES:
        raise ValueError("method 0x%x or class %r out of range" % (method, message_class))
    return ((method & 0x00F) | ((method & 0x070) << 1) | ((method & 0xF80) << 2)
            | ((message_class & 1) << 4) | ((message_class & 2) << 7))


def split_message_type(value):
    """The (method, class) of a 14-bit message type."""
    method = (value & 0x000F) | ((value & 0x00E0) >> 1) | ((value & 0x3E00) >> 2)
    message_class = ((value >> 4) & 1) | ((value >> 7) & 2)
    return method, message_class


# ---------------------------------------------------------------------------
# encoding
# ---------------------------------------------------------------------------

def padded_length(length):
    return (length + 3) & ~3


def encode_attribute(attr_type, value):
    padding = padded_length(len(value)) - len(value)
    return struct.pack("!HH", attr_type, len(value)) + value + b"\x00" * padding


def _header(method, message_class, length, transaction_id):
    return struct.pack("!HH", message_type(method, message_class), length) + MAGIC_COOKIE_BYTES + transaction_id


def encode_message(method, message_class, transaction_id, attributes=(), key=None, fingerprint=False):
    """The message's bytes; MESSAGE-INTEGRITY (HMAC-SHA1 with ``key``) and FINGERPRINT close it when asked."""
    if len(transaction_id) != TRANSACTION_ID_LENGTH:
        raise ValueError("a transaction id has 12 bytes")
    body = b"".join(encode_attribute(attr_type, value) for attr_type, value in attributes)
    message = _header(method, message_class, len(body), transaction_id) + body
    if key is not None:
        message = append_integrity(message, key)
    if fingerprint:
        message = append_fingerprint(message)
    if len(message) > MAX_MESSAGE_LENGTH:
        raise ValueError("a STUN message carries at most 65535 bytes of attributes")
    return message


def _with_length(message, extra):
    """The message with its length field grown by ``extra`` bytes about to be appended."""
    return message[:2] + struct.pack("!H", len(message) - HEADER_LENGTH + extra) + message[4:]


def append_integrity(message, key):
    """Append MESSAGE-INTEGRITY: HMAC-SHA1 over the message whose length already counts it."""
    covered = _with_length(message, 4 + INTEGRITY_LENGTH)
    return covered + encode_attribute(MESSAGE_INTEGRITY, hmac.new(key, covered, hashlib.sha1).digest())


def append_fingerprint(message):
    """Append FINGERPRINT: CRC-32 over the message whose length already counts it."""
    covered = _with_length(message, 8)
    return covered + encode_attribute(FINGERPRINT, struct.pack("!I", fingerprint_value(covered)))


def fingerprint_value(data):
    """CRC-32 of the message up to the FINGERPRINT attribute, XOR 0x5354554E."""
    return (binascii.crc32(data) & 0xFFFFFFFF) ^ FINGERPRINT_XOR


def encode_xor_address(host, port, transaction_id):
    """XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS values."""
    address = ipaddress.ip_address(host)
    family = FAMILY_IPV4 if address.version == 4 else FAMILY_IPV6
    mask = MAGIC_COOKIE_BYTES + transaction_id
    packed = bytes(a ^ b for a, b in zip(address.packed, mask))
    return struct.pack("!BBH", 0, family, port ^ (MAGIC_COOKIE >> 16)) + packed


def encode_error_code(code, reason):
    return struct.pack("!HBB", 0, code // 100, code % 100) + reason.encode("utf-8")


def encode_lifetime(seconds):
    return struct.pack("!I", seconds)


def encode_requested_transport(protocol=UDP_PROTOCOL):
    return struct.pack("!B3x", protocol)


def encode_channel_number(channel):
    return struct.pack("!H2x", channel)


# ---------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------

def looks_like_stun(data):
    """True when the bytes start like a STUN message: first two bits zero and the magic cookie."""
    return len(data) >= HEADER_LENGTH and data[0] & 0xC0 == 0 and data[4:8] == MAGIC_COOKIE_BYTES


def decode_message(data):
    """A :class:`StunMessage` from exactly one message's bytes; ParseError when they are not one."""
    data = bytes(data)
    if len(data) < HEADER_LENGTH:
        raise ParseError("STUN message truncated: %d bytes, the header alone has 20" % len(data))
    msg_type, length = struct.unpack("!HH", data[:4])
    if msg_type & 0xC000:
        raise ParseError("not a STUN message: the first two bits are not zero")
    if data[4:8] != MAGIC_COOKIE_BYTES:
        raise ParseError("not a STUN message: wrong magic cookie")
    if length % 4:
        raise ParseError("STUN message length %d is not a multiple of 4" % length)
    if HEADER_LENGTH + length != len(data):
        raise ParseError("STUN message length %d does not match the %d bytes received"
                         % (length, len(data) - HEADER_LENGTH))
    method, message_class = split_message_type(msg_type)
    attributes = _decode_attributes(data)
    _check_fingerprint(data, attributes)
    return StunMessage(method, message_class, data[8:20], attributes, data)


def _decode_attributes(data):
    attributes = []
    offset = HEADER_LENGTH
    while offset < len(data):  # the length is a multiple of 4, so a whole attribute header follows
        attr_type, length = struct.unpack("!HH", data[offset:offset + 4])
        end = offset + 4 + length
        if end > len(data):
            raise ParseError("STUN attribute 0x%04x of %d bytes runs past the message" % (attr_type, length))
        attributes.append(StunAttribute(attr_type, data[offset + 4:end], offset))
        offset += 4 + padded_length(length)
    return attributes


def _check_fingerprint(data, attributes):
    for index, attribute in enumerate(attributes):
        if attribute.type != FINGERPRINT:
            continue
        if index != len(attributes) - 1 or len(attribute.value) != 4:
            raise ParseError("STUN FINGERPRINT is not the last attribute or not 4 bytes")
        if struct.unpack("!I", attribute.value)[0] != fingerprint_value(data[:attribute.offset]):
            raise ParseError("STUN FINGERPRINT does not match the message")


def has_fingerprint(message):
    return message.find(FINGERPRINT) is not None


def verify_integrity(message, key):
    """True when the message's MESSAGE-INTEGRITY is the HMAC-SHA1 of its bytes under ``key``.

    The length field is rewritten to end at MESSAGE-INTEGRITY, so a FINGERPRINT
    after it does not count (RFC 8489 section 14.5)."""
    attribute = message.find(MESSAGE_INTEGRITY)
    if attribute is None or len(attribute.value) != INTEGRITY_LENGTH:
        return False
    raw = message.raw
    length = attribute.offset + 4 + INTEGRITY_LENGTH - HEADER_LENGTH
    covered = raw[:2] + struct.pack("!H", length) + raw[4:attribute.offset]
    return hmac.compare_digest(hmac.new(key, covered, hashlib.sha1).digest(), attribute.value)


def decode_address(value):
    """(ip, port) of a MAPPED-ADDRESS value."""
    family, port, packed = _split_address(value)
    return str(ipaddress.ip_address(packed)), port


def decode_xor_address(value, transaction_id):
    """(ip, port) of an XOR-*-ADDRESS value."""
    family, port, packed = _split_address(value)
    mask = MAGIC_COOKIE_BYTES + transaction_id
    address = bytes(a ^ b for a, b in zip(packed, mask))
    return str(ipaddress.ip_address(address)), port ^ (MAGIC_COOKIE >> 16)


def _split_address(value):
    if len(value) < 4:
        raise ParseError("STUN address attribute truncated")
    family, port = struct.unpack("!xBH", value[:4])
    sizes = {FAMILY_IPV4: 4, FAMILY_IPV6: 16}
    if family not in sizes:
        raise ParseError("STUN address family 0x%02x is neither IPv4 nor IPv6" % family)
    if len(value) != 4 + sizes[family]:
        raise ParseError("STUN address attribute has %d bytes for family 0x%02x" % (len(value), family))
    return family, port, value[4:]


def decode_error_code(value):
    """(code, reason) of an ERROR-CODE value; the reason is decoded leniently."""
    if len(value) < 4:
        raise ParseError("STUN ERROR-CODE truncated")
    hundreds, number = value[2] & 0x07, value[3]
    if not 3 <= hundreds <= 6 or number > 99:
        raise ParseError("STUN ERROR-CODE %d.%02d is not in 300-699" % (hundreds, number))
    return hundreds * 100 + number, value[4:].decode("utf-8", "replace")


def decode_uint32(value, name):
    if len(value) != 4:
        raise ParseError("STUN %s is not 4 bytes" % name)
    return struct.unpack("!I", value)[0]


def mapped_address(message):
    """(ip, port) from XOR-MAPPED-ADDRESS, else from MAPPED-ADDRESS; None when neither is there."""
    value = message.get(XOR_MAPPED_ADDRESS)
    if value is not None:
        return decode_xor_address(value, message.transaction_id)
    value = message.get(MAPPED_ADDRESS)
    return decode_address(value) if value is not None else None


def error_of(message):
    """(code, reason) of an error response; ParseError when it carries no usable ERROR-CODE."""
    value = message.get(ERROR_CODE)
    if value is None:
        raise ParseError("STUN error response without ERROR-CODE")
    return decode_error_code(value)


# ---------------------------------------------------------------------------
# ChannelData and stream framing
# ---------------------------------------------------------------------------

def encode_channel_data(channel, payload, pad=False):
    """A ChannelData frame; over TCP and TLS it is padded to a multiple of 4 (RFC 8656 section 12.5)."""
    if not CHANNEL_MIN <= channel <= CHANNEL_MAX:
        raise ValueError("channel 0x%04x is not in 0x4000-0x4FFF" % channel)
    frame = struct.pack("!HH", channel, len(payload)) + payload
    return frame + b"\x00" * (padded_length(len(frame)) - len(frame)) if pad else frame


def is_channel_data(data):
    return len(data) >= 1 and CHANNEL_MIN >> 8 <= data[0] <= CHANNEL_MAX >> 8


def decode_channel_data(data):
    """(channel, payload) of a ChannelData frame; trailing padding is allowed."""
    if len(data) < CHANNEL_HEADER_LENGTH:
        raise ParseError("ChannelData truncated")
    channel, length = struct.unpack("!HH", bytes(data[:4]))
    if not CHANNEL_MIN <= channel <= CHANNEL_MAX:
        raise ParseError("ChannelData channel 0x%04x is not in 0x4000-0x4FFF" % channel)
    if CHANNEL_HEADER_LENGTH + length > len(data):
        raise ParseError("ChannelData length %d runs past the %d bytes received" % (length, len(data) - 4))
    return channel, bytes(data[4:4 + length])


def stream_frame_length(buffer, channel_data=False):
    """How many bytes the next frame on a TCP/TLS stream takes, or None while too few are buffered.

    A stream carries STUN messages (20-byte header plus length) and, once a
    channel is bound, ChannelData (4-byte header plus length, padded to 4 on a
    stream). Anything else means the stream is not STUN and cannot be
    re-synchronised: ParseError."""
    if len(buffer) < 4:
        return None
    first, length = buffer[0], struct.unpack("!H", bytes(buffer[2:4]))[0]
    if first & 0xC0 == 0:
        if len(buffer) < 8:
            return None
        if bytes(buffer[4:8]) != MAGIC_COOKIE_BYTES:
            raise ParseError("the stream carries no STUN message: wrong magic cookie")
        return HEADER_LENGTH + length
    if channel_data and is_channel_data(buffer):
        return padded_length(CHANNEL_HEADER_LENGTH + length)
    raise ParseError("the stream carries neither STUN nor ChannelData (first byte 0x%02x)" % first)


# ---------------------------------------------------------------------------
# credentials
# ---------------------------------------------------------------------------

def saslprep(text):
    """SASLprep (RFC 4013) of a password or realm, as RFC 5389 keys the long-term credential."""
    mapped = "".join(" " if stringprep.in_table_c12(c) else c for c in text if not stringprep.in_table_b1(c))
    normalized = unicodedata.normalize("NFKC", mapped)
    prohibited = (stringprep.in_table_c12, stringprep.in_table_c21_c22, stringprep.in_table_c3,
                  stringprep.in_table_c4, stringprep.in_table_c5, stringprep.in_table_c6,
                  stringprep.in_table_c7, stringprep.in_table_c8, stringprep.in_table_c9)
    for char in normalized:
        if any(table(char) for table in prohibited):
            raise ValueError("SASLprep prohibits the character U+%04X" % ord(char))
    if any(stringprep.in_table_d1(c) for c in normalized):
        if not (stringprep.in_table_d1(normalized[0]) and stringprep.in_table_d1(normalized[-1])) or \
                any(stringprep.in_table_d2(c) for c in normalized):
            raise ValueError("SASLprep rejects mixed right-to-left text")
    return normalized


def long_term_key(username, realm, password):
    """MD5(username ":" realm ":" SASLprep(password)), the long-term credential's HMAC key."""
    text = "%s:%s:%s" % (username, realm, saslprep(password))
    return hashlib.md5(text.encode("utf-8")).digest()  # nosec: the key STUN defines


def rest_credentials(secret, user, expires_at):
    """coturn's REST API credentials (use-auth-secret): ``expiry:user`` and base64(HMAC-SHA1(secret, username))."""
    username = "%d:%s" % (expires_at, user) if user else "%d" % expires_at
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")
