# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the STUN/TURN codec: the RFC 5769 test vectors, every encoder and decoder, and fuzzing.

The four vectors are the bytes printed in RFC 5769 section 2. Their
MESSAGE-INTEGRITY and FINGERPRINT values were computed by their author, so a
codec that verifies them computes HMAC-SHA1, the long-term key and CRC-32 the
way every other implementation does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.stun import codec


def unhex(text):
    return bytes.fromhex(" ".join(text.split()))


SHORT_TERM_PASSWORD = b"VOkJxbRl1RmTxUk/WvJxBt"
TRANSACTION_ID = unhex("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae")

# RFC 5769 2.1: Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
# MESSAGE-INTEGRITY (short-term password) and FINGERPRINT
SAMPLE_REQUEST = unhex("""
    00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
    00 24 00 04 6e 00 01 ff
    80 29 00 08 93 2f f9 b1 51 26 3b 36
    00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
    00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
    80 28 00 04 e5 7a 3b cf""")

# RFC 5769 2.2: Binding success, XOR-MAPPED-ADDRESS 192.0.2.1:32853
SAMPLE_IPV4_RESPONSE = unhex("""
    01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 08 00 01 a1 47 e1 12 a6 43
    00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
    80 28 00 04 c0 7d 4c 96""")

# RFC 5769 2.3: Binding success, XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853
SAMPLE_IPV6_RESPONSE = unhex("""
    01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
    00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
    80 28 00 04 c8 fb 0b 4c""")

# RFC 5769 2.4: request with long-term authentication, no FINGERPRINT
SAMPLE_LONG_TERM_REQUEST = unhex("""
    00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
    00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
    00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
    00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
    00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66""")
LONG_TERM_USERNAME = u"\u30de\u30c8\u30ea\u30c3\u30af\u30b9"
LONG_TERM_PASSWORD = u"The\u00adM\u00aatr\u2168"  # SASLprep maps it to "TheMatrIX"
VECTORS = [SAMPLE_REQUEST, SAMPLE_IPV4_RESPONSE, SAMPLE_IPV6_RESPONSE, SAMPLE_LONG_TERM_REQUEST]


# ---------------------------------------------------------------------------
# RFC 5769
# ---------------------------------------------------------------------------

def test_rfc5769_sample_request_decodes_and_its_integrity_checks():
    message = codec.decode_message(SAMPLE_REQUEST)
    assert (message.method, message.message_class) == (codec.BINDING, codec.REQUEST)
    assert message.transaction_id == TRANSACTION_ID
    assert [a.type for a in message.attributes] == [codec.SOFTWARE, 0x0024, 0x8029, codec.USERNAME,
                                                    codec.MESSAGE_INTEGRITY, codec.FINGERPRINT]
    assert message.get(codec.SOFTWARE) == b"STUN test client"
    assert message.get(codec.USERNAME) == b"evtj:h6vY"
    assert codec.has_fingerprint(message)
    assert codec.verify_integrity(message, SHORT_TERM_PASSWORD)
    assert not codec.verify_integrity(message, b"VOkJxbRl1RmTxUk/WvJxBT")


@pytest.mark.parametrize("vector, mapped", [
    (SAMPLE_IPV4_RESPONSE, ("192.0.2.1", 32853)),
    (SAMPLE_IPV6_RESPONSE, ("2001:db8:1234:5678:11:2233:4455:6677", 32853)),
])
def test_rfc5769_responses_give_the_mapped_address(vector, mapped):
    message = codec.decode_message(vector)
    assert (message.method, message.message_class) == (codec.BINDING, codec.SUCCESS)
    assert message.get(codec.SOFTWARE) == b"test vector"
    assert codec.mapped_address(message) == mapped
    assert codec.verify_integrity(message, SHORT_TERM_PASSWORD)


@pytest.mark.parametrize("vector", [SAMPLE_REQUEST, SAMPLE_IPV4_RESPONSE, SAMPLE_IPV6_RESPONSE])
def test_integrity_and_fingerprint_appended_to_the_rfc5769_attributes_give_the_rfc_bytes(vector):
    # the vectors pad with spaces, so sign the RFC's own bytes up to MESSAGE-INTEGRITY
    integrity_at = codec.decode_message(vector).find(codec.MESSAGE_INTEGRITY).offset
    unsigned = vector[:2] + struct.pack("!H", integrity_at - 20) + vector[4:integrity_at]
    assert codec.append_fingerprint(codec.append_integrity(unsigned, SHORT_TERM_PASSWORD)) == vector


@pytest.mark.parametrize("mapped", [("192.0.2.1", 32853), ("2001:db8:1234:5678:11:2233:4455:6677", 32853)])
def test_encoder_writes_the_rfc5769_xor_mapped_address(mapped):
    vector = SAMPLE_IPV4_RESPONSE if ":" not in mapped[0] else SAMPLE_IPV6_RESPONSE
    value = codec.encode_xor_address(mapped[0], mapped[1], TRANSACTION_ID)
    assert value == codec.decode_message(vector).get(codec.XOR_MAPPED_ADDRESS)


def test_encode_message_signs_what_decode_verifies():
    attributes = [(codec.SOFTWARE, b"probe"), (codec.USERNAME, b"alice")]
    message = codec.encode_message(codec.ALLOCATE, codec.REQUEST, TRANSACTION_ID, attributes,
                                   key=b"k" * 16, fingerprint=True)
    decoded = codec.decode_message(message)
    assert [(a.type, a.value) for a in decoded.attributes][:2] == attributes
    assert codec.verify_integrity(decoded, b"k" * 16)
    assert decoded.attributes[-1].type == codec.FINGERPRINT


def test_rfc5769_long_term_request_checks_under_the_long_term_key():
    message = codec.decode_message(SAMPLE_LONG_TERM_REQUEST)
    username = message.get(codec.USERNAME).decode("utf-8")
    assert username == LONG_TERM_USERNAME
    assert message.get(codec.REALM) == b"example.org"
    assert message.get(codec.NONCE) == b"f//499k954d6OL34oL9FSTvy64sA"
    assert not codec.has_fingerprint(message)
    key = codec.long_term_key(username, "example.org", LONG_TERM_PASSWORD)
    assert key == hashlib.md5(u"\u30de\u30c8\u30ea\u30c3\u30af\u30b9:example.org:TheMatrIX".encode()).digest()
    assert codec.verify_integrity(message, key)
    assert not codec.verify_integrity(message, codec.long_term_key(username, "example.org", "TheMatrix"))


@pytest.mark.parametrize("vector", VECTORS[:3])
def test_a_flipped_bit_breaks_the_fingerprint(vector):
    damaged = bytearray(vector)
    damaged[25] ^= 0x01
    with pytest.raises(ParseError, match="FINGERPRINT does not match"):
        codec.decode_message(bytes(damaged))


def test_a_flipped_bit_breaks_the_long_term_integrity():
    damaged = bytearray(SAMPLE_LONG_TERM_REQUEST)
    damaged[60] ^= 0x01  # a byte of the NONCE
    key = codec.long_term_key(LONG_TERM_USERNAME, "example.org", LONG_TERM_PASSWORD)
    assert not codec.verify_integrity(codec.decode_message(bytes(damaged)), key)


# ---------------------------------------------------------------------------
# message types, attributes
# ---------------------------------------------------------------------------

# (method, class, type) from RFC 8489 section 5 and the TURN methods of RFC 8656
MESSAGE_TYPES = [
    (codec.BINDING, codec.REQUEST, 0x0001), (codec.BINDING, codec.SUCCESS, 0x0101),
    (codec.BINDING, codec.ERROR, 0x0111), (codec.BINDING, codec.INDICATION, 0x0011),
    (codec.ALLOCATE, codec.REQUEST, 0x0003), (codec.ALLOCATE, codec.SUCCESS, 0x0103),
    (codec.ALLOCATE, codec.ERROR, 0x0113), (codec.REFRESH, codec.REQUEST, 0x0004),
    (codec.SEND, codec.INDICATION, 0x0016), (codec.DATA, codec.INDICATION, 0x0017),
    (codec.CREATE_PERMISSION, codec.REQUEST, 0x0008), (codec.CHANNEL_BIND, codec.SUCCESS, 0x0109),
    (0xFFF, codec.ERROR, 0x3FFF),
]


@pytest.mark.parametrize("method, message_class, value", MESSAGE_TYPES)
def test_message_type_interleaves_method_and_class(method, message_class, value):
    assert codec.message_type(method, message_class) == value
    assert codec.split_message_type(value) == (method, message_class)


@pytest.mark.parametrize("method, message_class", [(0x1000, codec.REQUEST), (codec.BINDING, 4)])
def test_message_type_refuses_values_out_of_range(method, message_class):
    with pytest.raises(ValueError):
        codec.message_type(method, message_class)


def test_encode_message_refuses_a_short_transaction_id():
    with pytest.raises(ValueError):
        codec.encode_message(codec.BINDING, codec.REQUEST, b"short")


def test_encode_attribute_pads_to_four_bytes():
    assert codec.encode_attribute(codec.SOFTWARE, b"abcde") == b"\x80\x22\x00\x05abcde\x00\x00\x00"
    assert codec.encode_attribute(codec.LIFETIME, codec.encode_lifetime(600)) == b"\x00\x0d\x00\x04\x00\x00\x02\x58"


def test_turn_attribute_values():
    assert codec.encode_requested_transport() == b"\x11\x00\x00\x00"
    assert codec.encode_channel_number(0x4001) == b"\x40\x01\x00\x00"
    assert codec.encode_error_code(441, "Wrong Credentials") == b"\x00\x00\x04\x29Wrong Credentials"
    assert codec.decode_error_code(codec.encode_error_code(438, "Stale Nonce")) == (438, "Stale Nonce")
    assert codec.decode_uint32(b"\x00\x00\x02\x58", "LIFETIME") == 600


@pytest.mark.parametrize("value, message", [
    (b"\x00\x00\x04", "truncated"),
    (b"\x00\x00\x02\x00", "not in 300-699"),
    (b"\x00\x00\x04\x64", "not in 300-699"),
])
def test_decode_error_code_refuses_bad_values(value, message):
    with pytest.raises(ParseError, match=message):
        codec.decode_error_code(value)


def test_decode_uint32_refuses_other_sizes():
    with pytest.raises(ParseError):
        codec.decode_uint32(b"\x00\x02\x58", "LIFETIME")


@pytest.mark.parametrize("host, port", [("203.0.113.45", 51234), ("2001:db8::1", 443), ("0.0.0.0", 0),
                                        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535)])
def test_xor_address_round_trip(host, port):
    value = codec.encode_xor_address(host, port, TRANSACTION_ID)
    assert codec.decode_xor_address(value, TRANSACTION_ID) == (host, port)


def test_plain_mapped_address_is_read_when_there_is_no_xor_one():
    value = struct.pack("!BBH4s", 0, 1, 3478, bytes([198, 51, 100, 7]))
    message = codec.decode_message(codec.encode_message(codec.BINDING, codec.SUCCESS, TRANSACTION_ID,
                                                        [(codec.MAPPED_ADDRESS, value)]))
    assert codec.mapped_address(message) == ("198.51.100.7", 3478)
    empty = codec.decode_message(codec.encode_message(codec.BINDING, codec.SUCCESS, TRANSACTION_ID))
    assert codec.mapped_address(empty) is None


@pytest.mark.parametrize("value, message", [
    (b"\x00\x01\x00", "truncated"),
    (b"\x00\x03\x00\x01\x01\x02\x03\x04", "neither IPv4 nor IPv6"),
    (b"\x00\x01\x00\x01\x01\x02\x03", "has 7 bytes"),
    (b"\x00\x02\x00\x01" + bytes(4), "has 8 bytes"),
])
def test_address_attributes_of_the_wrong_shape_are_parse_errors(value, message):
    with pytest.raises(ParseError, match=message):
        codec.decode_xor_address(value, TRANSACTION_ID)


def test_error_of_needs_an_error_code():
    message = codec.decode_message(codec.encode_message(codec.ALLOCATE, codec.ERROR, TRANSACTION_ID))
    with pytest.raises(ParseError, match="without ERROR-CODE"):
        codec.error_of(message)


# ---------------------------------------------------------------------------
# decode_message refuses what is not one message
# ---------------------------------------------------------------------------

def with_byte(data, index, value):
    changed = bytearray(data)
    changed[index] = value
    return bytes(changed)


@pytest.mark.parametrize("data, message", [
    (SAMPLE_REQUEST[:19], "truncated"),
    (with_byte(SAMPLE_REQUEST, 0, 0x40), "first two bits"),
    (with_byte(SAMPLE_REQUEST, 4, 0x22), "magic cookie"),
    (with_byte(SAMPLE_REQUEST, 3, 0x59), "multiple of 4"),
    (SAMPLE_REQUEST[:-4], "does not match the 84 bytes"),
    (SAMPLE_REQUEST + b"\x00" * 4, "does not match the 92 bytes"),
    (with_byte(SAMPLE_REQUEST, 23, 0x40), "runs past the message"),
])
def test_decode_message_refuses_malformed_bytes(data, message):
    with pytest.raises(ParseError, match=message):
        codec.decode_message(data)


def test_a_fingerprint_that_is_not_last_is_refused():
    data = codec.encode_message(codec.BINDING, codec.REQUEST, TRANSACTION_ID,
                                [(codec.FINGERPRINT, b"\x00" * 4), (codec.SOFTWARE, b"x")])
    with pytest.raises(ParseError, match="not the last"):
        codec.decode_message(data)


def test_integrity_of_the_wrong_size_never_verifies():
    data = codec.encode_message(codec.BINDING, codec.REQUEST, TRANSACTION_ID, [(codec.MESSAGE_INTEGRITY, b"x")])
    assert not codec.verify_integrity(codec.decode_message(data), b"key")
    assert not codec.verify_integrity(codec.decode_message(SAMPLE_REQUEST[:20].replace(b"\x00\x58", b"\x00\x00", 1)),
                                      b"key")


def test_looks_like_stun():
    assert codec.looks_like_stun(SAMPLE_REQUEST)
    assert not codec.looks_like_stun(SAMPLE_REQUEST[:19])
    assert not codec.looks_like_stun(codec.encode_channel_data(0x4000, b"x" * 20))


# ---------------------------------------------------------------------------
# ChannelData and stream framing
# ---------------------------------------------------------------------------

def test_channel_data_round_trip_and_padding():
    frame = codec.encode_channel_data(0x4abc, b"voice")
    assert frame == b"\x4a\xbc\x00\x05voice"
    padded = codec.encode_channel_data(0x4abc, b"voice", pad=True)
    assert padded == frame + b"\x00\x00\x00"
    assert codec.is_channel_data(frame) and not codec.is_channel_data(SAMPLE_REQUEST)
    assert codec.decode_channel_data(frame) == (0x4abc, b"voice")
    assert codec.decode_channel_data(padded) == (0x4abc, b"voice")


@pytest.mark.parametrize("data, message", [
    (b"\x40\x00\x00", "truncated"),
    (b"\x50\x00\x00\x00", "not in 0x4000-0x4FFF"),
    (b"\x40\x00\x00\x05abc", "runs past"),
])
def test_decode_channel_data_refuses_malformed_frames(data, message):
    with pytest.raises(ParseError, match=message):
        codec.decode_channel_data(data)


def test_encode_channel_data_refuses_a_channel_out_of_range():
    with pytest.raises(ValueError):
        codec.encode_channel_data(0x3FFF, b"x")


def test_stream_frame_length_of_stun_messages():
    assert codec.stream_frame_length(b"") is None
    assert codec.stream_frame_length(SAMPLE_REQUEST[:7]) is None
    assert codec.stream_frame_length(SAMPLE_REQUEST[:8]) == len(SAMPLE_REQUEST)
    with pytest.raises(ParseError, match="wrong magic cookie"):
        codec.stream_frame_length(b"\x16\x03\x01\x02\x00\x01\x00\x01")  # a TLS ClientHello


def test_stream_frame_length_of_channel_data_once_a_channel_is_bound():
    assert codec.stream_frame_length(b"\x40\x00\x00\x05", channel_data=True) == 12
    assert codec.stream_frame_length(b"\x40\x00\x00\x08", channel_data=True) == 12
    with pytest.raises(ParseError, match="neither STUN nor ChannelData"):
        codec.stream_frame_length(b"\x40\x00\x00\x05")
    with pytest.raises(ParseError, match="neither STUN nor ChannelData"):
        codec.stream_frame_length(b"HTTP/1.1 200 OK")
    with pytest.raises(ParseError, match="neither STUN nor ChannelData"):
        codec.stream_frame_length(b"\x80\x00\x00\x00", channel_data=True)


# ---------------------------------------------------------------------------
# credentials
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, prepared", [
    (u"I\u00adX", u"IX"),              # soft hyphen is mapped to nothing
    (u"user", u"user"),
    (u"\u00aa", u"a"),                 # NFKC
    (u"\u2168", u"IX"),
    (u"a\u00a0b", u"a b"),             # non-ASCII space becomes a space
])
def test_saslprep_maps_and_normalises(text, prepared):
    assert codec.saslprep(text) == prepared


@pytest.mark.parametrize("text", [u"a\u0007b", u"\u0627\u0031"])
def test_saslprep_refuses_prohibited_and_mixed_direction_text(text):
    with pytest.raises(ValueError):
        codec.saslprep(text)


def test_rest_credentials_follow_coturns_formula():
    username, password = codec.rest_credentials("s3cret", "alice", 1700000000)
    assert username == "1700000000:alice"
    expected = hmac.new(b"s3cret", b"1700000000:alice", hashlib.sha1).digest()
    assert base64.b64decode(password) == expected
    assert codec.rest_credentials("s3cret", "", 1700000000)[0] == "1700000000"


# ---------------------------------------------------------------------------
# fuzzing: untrusted bytes give a message or a ParseError, nothing else
# ---------------------------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def mutated(vector):
    """A vector with a few bytes changed, cut or extended, the length field kept plausible or not."""
    return st.tuples(st.lists(st.tuples(st.integers(0, len(vector) - 1), st.integers(0, 255)), max_size=4),
                     st.integers(0, len(vector)), st.binary(max_size=8)).map(
        lambda spec: apply_mutation(vector, *spec))


def apply_mutation(vector, changes, cut, tail):
    data = bytearray(vector)
    for index, value in changes:
        data[index] = value
    return bytes(data[:cut]) + tail


stun_like = st.one_of(st.binary(max_size=200), *[mutated(v) for v in VECTORS],
                      st.binary(max_size=60).map(lambda b: SAMPLE_REQUEST[:2] + struct.pack("!H", len(b))
                                                 + SAMPLE_REQUEST[4:20] + b))


@FUZZ
@given(stun_like)
def test_fuzzed_bytes_decode_or_raise_parse_error(data):
    try:
        message = codec.decode_message(data)
    except ParseError:
        return
    assert len(message.raw) == len(data)
    for attribute in message.attributes:
        assert attribute.offset + 4 + len(attribute.value) <= len(data)
    codec.verify_integrity(message, SHORT_TERM_PASSWORD)
    for reader in (codec.mapped_address, codec.error_of):
        try:
            reader(message)
        except ParseError:
            pass


@FUZZ
@given(st.binary(max_size=40), st.binary(min_size=12, max_size=12))
def test_fuzzed_attribute_values_decode_or_raise_parse_error(value, transaction_id):
    for decode in (lambda v: codec.decode_xor_address(v, transaction_id), codec.decode_address,
                   codec.decode_error_code, lambda v: codec.decode_uint32(v, "LIFETIME"),
                   codec.decode_channel_data, codec.stream_frame_length,
                   lambda v: codec.stream_frame_length(v, channel_data=True)):
        try:
            decode(value)
        except ParseError:
            pass


PLAIN_ATTRIBUTE_TYPES = st.integers(0, 0x7FFF).filter(lambda t: t not in (codec.MESSAGE_INTEGRITY, codec.FINGERPRINT))


@FUZZ
@given(st.integers(0, 0xFFF), st.sampled_from(sorted(codec.CLASS_NAMES)), st.binary(min_size=12, max_size=12),
       st.lists(st.tuples(PLAIN_ATTRIBUTE_TYPES, st.binary(max_size=40)), max_size=6),
       st.one_of(st.none(), st.binary(min_size=1, max_size=20)), st.booleans())
def test_encoded_messages_decode_to_what_was_encoded(method, message_class, transaction_id, attributes, key,
                                                     fingerprint):
    data = codec.encode_message(method, message_class, transaction_id, attributes, key=key, fingerprint=fingerprint)
    message = codec.decode_message(data)
    assert (message.method, message.message_class, message.transaction_id) == (method, message_class,
                                                                               transaction_id)
    assert [(a.type, a.value) for a in message.attributes][:len(attributes)] == attributes
    assert codec.stream_frame_length(data) == len(data)
    if key is not None:
        assert codec.verify_integrity(message, key)
