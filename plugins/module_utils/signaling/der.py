# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A minimal DER reader: just enough of an X.509 certificate to name it and pin it.

The TLS stack hands over the peer's certificate as DER
(``getpeercert(binary_form=True)``); the managed host has no third-party
package to read it, so this reads the few fields a probe reports (RFC 5280
section 4.1): subject, issuer, serial, validity, the DNS names and addresses
of the subjectAltName extension, and the SHA-256 of the DER
SubjectPublicKeyInfo, base64 encoded as in HPKP pins (RFC 7469).

Names are rendered as RFC 4514 strings. Anything malformed raises ParseError.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import ipaddress
from collections import namedtuple

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError

BOOLEAN = 0x01
INTEGER = 0x02
OCTET_STRING = 0x04
OID = 0x06
SEQUENCE = 0x30
SET = 0x31
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18
VERSION_TAG = 0xA0
EXTENSIONS_TAG = 0xA3
SAN_DNS_NAME = 0x82
SAN_IP_ADDRESS = 0x87
MAX_LENGTH_BYTES = 4

# The ASCII types often carry UTF-8 in the wild: read as UTF-8 when it is, else as Latin-1.
ASCII_TYPES = "ascii"
STRING_CODECS = {
    0x0C: "utf-8",        # UTF8String
    0x12: ASCII_TYPES,    # NumericString
    0x13: ASCII_TYPES,    # PrintableString
    0x14: "latin-1",      # TeletexString (T61), read as Latin-1 like most tools
    0x16: ASCII_TYPES,    # IA5String
    0x1A: ASCII_TYPES,    # VisibleString
    0x1C: "utf-32-be",    # UniversalString
    0x1E: "utf-16-be",    # BMPString
}

# RFC 4514 section 3: the attribute types written by name; others as dotted OIDs.
ATTRIBUTE_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.9": "STREET",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}
COMMON_NAME = "2.5.4.3"
SUBJECT_ALT_NAME = "2.5.29.17"

Element = namedtuple("Element", "tag start content end")


# ---------------------------------------------------------------------------
# Tag, length, value
# ---------------------------------------------------------------------------

def read_element(data, offset, end):
    """The element at ``offset``, which must end at or before ``end``."""
    if offset + 2 > end:
        raise ParseError("DER: truncated element at offset %d" % offset)
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise ParseError("DER: high tag number at offset %d (not used in certificates)" % offset)
    first = data[offset + 1]
    content = offset + 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise ParseError("DER: indefinite length at offset %d (not allowed in DER)" % offset)
    else:
        count = first & 0x7F
        if count > MAX_LENGTH_BYTES or content + count > end:
            raise ParseError("DER: bad length of %d bytes at offset %d" % (count, offset))
        length = int.from_bytes(bytes(data[content:content + count]), "big")
        content += count
    if content + length > end:
        raise ParseError("DER: element at offset %d runs past the end of its container" % offset)
    return Element(tag, offset, content, content + length)


def children(data, element):
    """The elements inside a constructed element, in order."""
    found, offset = [], element.content
    while offset < element.end:
        child = read_element(data, offset, element.end)
        found.append(child)
        offset = child.end
    return found


def expect(element, tag, what):
    if element.tag != tag:
        raise ParseError("DER: %s: expected tag 0x%02x, found 0x%02x at offset %d"
                         % (what, tag, element.tag, element.start))
    return element


def content_of(data, element):
    return bytes(data[element.content:element.end])


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

def decode_oid(value):
    """Dotted text of an OBJECT IDENTIFIER's content."""
    value = bytearray(value)
    if not value or value[-1] & 0x80:
        raise ParseError("DER: empty or truncated object identifier")
    arcs, current = [], 0
    for byte in value:
        current = (current << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(current)
            current = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])


def decode_integer(value):
    if not value:
        raise ParseError("DER: empty integer")
    return int.from_bytes(value, "big", signed=True)


def decode_string(tag, value):
    """Text of a directory string; None for a type that is not a string."""
    codec = STRING_CODECS.get(tag)
    if codec is None:
        return None
    if codec == ASCII_TYPES:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("latin-1")
    return codecs.decode(value, codec, "replace")


def decode_time(tag, value):
    """``YYYY-MM-DDTHH:MM:SSZ`` for the usual forms, else the text as it is."""
    text = value.decode("latin-1")
    digits = text[:-1]
    if tag == UTC_TIME and len(text) == 13 and text.endswith("Z") and digits.isdigit():
        year = int(digits[:2])
        digits = ("19" if year >= 50 else "20") + digits
    elif not (tag == GENERALIZED_TIME and len(text) == 15 and text.endswith("Z") and digits.isdigit()):
        return text
    return "%s-%s-%sT%s:%s:%sZ" % (digits[0:4], digits[4:6], digits[6:8], digits[8:10], digits[10:12], digits[12:14])


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------

def parse_name(data, element):
    """A Name as a list of RDNs in DER order, each a list of (dotted OID, text, is_hex) triples.

    A value that is not a string is kept as RFC 4514's ``#`` and the hex of its DER (``is_hex``).
    """
    rdns = []
    for rdn in children(data, expect(element, SEQUENCE, "name")):
        pairs = []
        for pair in children(data, expect(rdn, SET, "relative distinguished name")):
            parts = children(data, expect(pair, SEQUENCE, "attribute"))
            if len(parts) != 2:
                raise ParseError("DER: an attribute has %d parts, not 2" % len(parts))
            oid = decode_oid(content_of(data, expect(parts[0], OID, "attribute type")))
            value = parts[1]
            text = decode_string(value.tag, content_of(data, value))
            if text is None:
                pairs.append((oid, "#" + binascii.hexlify(bytes(data[value.start:value.end])).decode("ascii"), True))
            else:
                pairs.append((oid, text, False))
        rdns.append(pairs)
    return rdns


def escape_value(text):
    """RFC 4514 section 2.4 escaping of a string attribute value."""
    escaped = []
    for index, char in enumerate(text):
        if char in '"+,;<>\\' or (index == 0 and char in "# ") or (index == len(text) - 1 and char == " "):
            escaped.append("\\" + char)
        elif char == "\0":
            escaped.append("\\00")
        else:
            escaped.append(char)
    return "".join(escaped)


def name_text(rdns):
    """RFC 4514 string: the RDNs in reverse order, ``CN=...,O=...``."""
    return ",".join("+".join("%s=%s" % (ATTRIBUTE_NAMES.get(oid, oid), text if is_hex else escape_value(text))
                             for oid, text, is_hex in rdn)
                    for rdn in reversed(rdns))


def common_name(rdns):
    """The most specific CN (the last one in DER order), or None."""
    names = [text for rdn in rdns for oid, text, is_hex in rdn if oid == COMMON_NAME and not is_hex]
    return names[-1] if names else None


# ---------------------------------------------------------------------------
# The certificate
# ---------------------------------------------------------------------------

def parse_certificate(der):
    """The fields a probe reports of one DER certificate; ParseError when it is not one."""
    data = bytearray(der)
    certificate = expect(read_element(data, 0, len(data)), SEQUENCE, "certificate")
    if certificate.end != len(data):
        raise ParseError("DER: %d bytes after the certificate" % (len(data) - certificate.end))
    parts = children(data, certificate)
    if len(parts) != 3:
        raise ParseError("DER: a certificate has 3 parts, this one %d" % len(parts))
    fields = children(data, expect(parts[0], SEQUENCE, "tbsCertificate"))
    if fields and fields[0].tag == VERSION_TAG:
        fields = fields[1:]
    if len(fields) < 6:
        raise ParseError("DER: tbsCertificate has %d fields, at least 6 expected" % len(fields))
    serial, _signature, issuer, validity, subject, spki = fields[:6]
    issuer_rdns, subject_rdns = parse_name(data, issuer), parse_name(data, subject)
    not_before, not_after = parse_validity(data, validity)
    spki_der = bytes(data[expect(spki, SEQUENCE, "subjectPublicKeyInfo").start:spki.end])
    dns_names, ip_addresses = subject_alt_names(data, fields[6:])
    return {
        "subject": name_text(subject_rdns),
        "subject_cn": common_name(subject_rdns),
        "issuer": name_text(issuer_rdns),
        "issuer_cn": common_name(issuer_rdns),
        "serial": "%x" % decode_integer(content_of(data, expect(serial, INTEGER, "serial number"))),
        "not_before": not_before,
        "not_after": not_after,
        "dns_names": dns_names,
        "ip_addresses": ip_addresses,
        "spki_sha256": base64.b64encode(hashlib.sha256(spki_der).digest()).decode("ascii"),
    }


def parse_validity(data, element):
    times = children(data, expect(element, SEQUENCE, "validity"))
    if len(times) != 2 or any(item.tag not in (UTC_TIME, GENERALIZED_TIME) for item in times):
        raise ParseError("DER: validity is not two times")
    return tuple(decode_time(item.tag, content_of(data, item)) for item in times)


def subject_alt_names(data, optional_fields):
    """(DNS names, IP addresses) of the subjectAltName extension, if there is one."""
    for field in optional_fields:
        if field.tag != EXTENSIONS_TAG:
            continue
        wrapped = children(data, field)
        if len(wrapped) != 1:
            raise ParseError("DER: extensions are not one sequence")
        for extension in children(data, expect(wrapped[0], SEQUENCE, "extensions")):
            parts = children(data, expect(extension, SEQUENCE, "extension"))
            if len(parts) < 2:
                raise ParseError("DER: an extension has %d parts" % len(parts))
            if decode_oid(content_of(data, expect(parts[0], OID, "extension id"))) == SUBJECT_ALT_NAME:
                return general_names(data, expect(parts[-1], OCTET_STRING, "extension value"))
    return [], []


def general_names(data, octets):
    sequence = read_element(data, octets.content, octets.end)
    if sequence.end != octets.end:
        raise ParseError("DER: bytes after subjectAltName")
    dns_names, ip_addresses = [], []
    for name in children(data, expect(sequence, SEQUENCE, "subjectAltName")):
        value = content_of(data, name)
        if name.tag == SAN_DNS_NAME:
            dns_names.append(value.decode("latin-1"))
        elif name.tag == SAN_IP_ADDRESS and len(value) in (4, 16):
            ip_addresses.append(str(ipaddress.ip_address(value)))
    return dns_names, ip_addresses


def spki_pin(der):
    """Base64 SHA-256 of a certificate's SubjectPublicKeyInfo: an HPKP ``pin-sha256`` value."""
    return parse_certificate(der)["spki_sha256"]
