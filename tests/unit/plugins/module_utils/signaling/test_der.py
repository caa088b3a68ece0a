# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the minimal DER reader.

The oracles are independent of it: the ``cryptography`` package (controller side
only) for every field, and the ``openssl`` CLI's HPKP recipe for the SPKI pin.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.signaling import der
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.signaling.servers import make_pki, spki_pin_of


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def load(path):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def der_of(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_reads_a_leaf_as_cryptography_does(pki):
    cert = load(pki.service_cert)
    parsed = der.parse_certificate(der_of(cert))
    assert parsed["subject"] == cert.subject.rfc4514_string() == "CN=signal.dlegate.test,O=DLEGATE,C=DE"
    assert parsed["issuer"] == cert.issuer.rfc4514_string() == "CN=DLEGATE Test Root CA,O=DLEGATE,C=DE"
    assert parsed["subject_cn"] == "signal.dlegate.test"
    assert parsed["issuer_cn"] == "DLEGATE Test Root CA"
    assert parsed["serial"] == "%x" % cert.serial_number
    assert parsed["not_before"] == iso(cert.not_valid_before_utc)
    assert parsed["not_after"] == iso(cert.not_valid_after_utc)
    assert parsed["dns_names"] == ["signal.dlegate.test"]
    assert parsed["ip_addresses"] == ["127.0.0.1"]
    assert parsed["spki_sha256"] == spki_pin_of(cert) == pki.service_pin
    assert der.spki_pin(der_of(cert)) == pki.service_pin


def test_a_ca_without_extensions_of_interest(pki):
    cert = load(pki.inspect_ca)
    parsed = der.parse_certificate(der_of(cert))
    assert parsed["subject"] == parsed["issuer"] == "CN=Corp TLS Inspection CA,O=Corp,C=DE"
    assert parsed["dns_names"] == [] and parsed["ip_addresses"] == []


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
def test_spki_pin_matches_the_openssl_hpkp_recipe(pki):
    """RFC 7469's pin, computed the way its appendix does with the openssl CLI."""
    pubkey = subprocess.run(["openssl", "x509", "-in", pki.service_cert, "-pubkey", "-noout"],
                            check=True, capture_output=True).stdout
    spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pubkey,
                          check=True, capture_output=True).stdout
    digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=spki,
                            check=True, capture_output=True).stdout
    with open(pki.service_cert, "rb") as handle:
        pem = handle.read()
    assert der.spki_pin(x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)) == \
        base64.b64encode(digest).decode("ascii")


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("hex_value, dotted", [
    ("550403", "2.5.4.3"),
    ("2a864886f70d010101", "1.2.840.113549.1.1.1"),
    ("0992268993f22c640119", "0.9.2342.19200300.100.1.25"),
    ("883703", "2.999.3"),                   # the X.690 example: the first arc pair above 80
    ("551d11", "2.5.29.17"),
])
def test_decode_oid(hex_value, dotted):
    assert der.decode_oid(bytes.fromhex(hex_value)) == dotted


@pytest.mark.parametrize("hex_value", ["", "83", "550483"])
def test_decode_oid_rejects_empty_and_truncated(hex_value):
    with pytest.raises(ParseError):
        der.decode_oid(bytes.fromhex(hex_value))


@pytest.mark.parametrize("tag, text, expected", [
    (der.UTC_TIME, "491231235959Z", "2049-12-31T23:59:59Z"),
    (der.UTC_TIME, "500101000000Z", "1950-01-01T00:00:00Z"),
    (der.GENERALIZED_TIME, "20500101120000Z", "2050-01-01T12:00:00Z"),
    (der.UTC_TIME, "4912312359Z", "4912312359Z"),            # no seconds: not DER; shown as it is
    (der.GENERALIZED_TIME, "20500101120000.5Z", "20500101120000.5Z"),
])
def test_decode_time(tag, text, expected):
    assert der.decode_time(tag, text.encode("ascii")) == expected


@pytest.mark.parametrize("tag, raw, text", [
    (0x0C, "grüße".encode("utf-8"), "grüße"),
    (0x13, b"DLEGATE", "DLEGATE"),
    (0x14, b"caf\xe9", "café"),
    (0x16, b"ops@dlegate.test", "ops@dlegate.test"),
    (0x1E, "Ωmega".encode("utf-16-be"), "Ωmega"),
    (0x1C, "Ωmega".encode("utf-32-be"), "Ωmega"),
    (0x04, b"\x01\x02", None),
])
def test_decode_string(tag, raw, text):
    assert der.decode_string(tag, raw) == text


@pytest.mark.parametrize("value, escaped", [
    ("plain", "plain"),
    ("a,b+c;d<e>f\"g\\h", "a\\,b\\+c\\;d\\<e\\>f\\\"g\\\\h"),
    ("#hash", "\\#hash"),
    (" lead and trail ", "\\ lead and trail\\ "),
    (" ", "\\ "),
    ("nul\0", "nul\\00"),
    ("mid#dle", "mid#dle"),
])
def test_escape_value(value, escaped):
    assert der.escape_value(value) == escaped


def test_a_non_string_value_is_shown_as_hex():
    # SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, OCTET STRING 01 02 } } }, as RFC 4514 section 2.4 renders it
    name = bytearray.fromhex("300d310b30090603550403" + "04020102")
    rdns = der.parse_name(name, der.read_element(name, 0, len(name)))
    assert rdns == [[("2.5.4.3", "#04020102", True)]]
    assert der.name_text(rdns) == "CN=#04020102"
    assert der.common_name(rdns) is None


# ---------------------------------------------------------------------------
# Malformed input
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("hex_value, message", [
    ("", "truncated"),
    ("30", "truncated"),
    ("3080", "indefinite length"),
    ("1f0100", "high tag number"),
    ("3085ffffffffff", "bad length"),
    ("3082", "bad length"),
    ("300500", "runs past"),
    ("3000ff", "bytes after the certificate"),
    ("3000", "3 parts"),
    ("0400", "expected tag 0x30"),
])
def test_malformed_certificates_raise_parse_error(hex_value, message):
    with pytest.raises(ParseError, match=message):
        der.parse_certificate(bytes.fromhex(hex_value))


@settings(max_examples=400, deadline=None, database=None)
@given(st.binary(max_size=200))
def test_fuzz_random_bytes_never_crash(data):
    try:
        parsed = der.parse_certificate(data)
    except ParseError:
        return
    assert set(parsed) >= {"subject", "issuer", "spki_sha256"}


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzz_mutated_certificates_never_crash(pki, data):
    """A real certificate with bytes flipped, inserted or cut: a result or ParseError, nothing else."""
    original = bytearray(pki.service_der)
    mutated = bytearray(original)
    for _step in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(mutated) - 1))
        action = data.draw(st.sampled_from(["flip", "insert", "cut"]))
        if action == "flip":
            mutated[position] ^= data.draw(st.integers(1, 255))
        elif action == "insert":
            mutated[position:position] = data.draw(st.binary(min_size=1, max_size=3))
        else:
            del mutated[position:position + data.draw(st.integers(1, 8))]
        if not mutated:
            mutated = bytearray(b"\x30")
    try:
        parsed = der.parse_certificate(bytes(mutated))
    except ParseError:
        return
    assert isinstance(parsed["subject"], str) and len(base64.b64decode(parsed["spki_sha256"])) == 32


# ---------------------------------------------------------------------------
# Names of every shape, checked against cryptography's RFC 4514 rendering
# ---------------------------------------------------------------------------

KEY = ec.generate_private_key(ec.SECP256R1())
NAME_TYPES = [NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME,
              NameOID.LOCALITY_NAME, NameOID.STATE_OR_PROVINCE_NAME, NameOID.STREET_ADDRESS,
              NameOID.DOMAIN_COMPONENT, NameOID.USER_ID, NameOID.SERIAL_NUMBER]
values = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
attributes = st.tuples(st.sampled_from(NAME_TYPES), values)
rdns = st.lists(st.lists(attributes, min_size=1, max_size=2), min_size=1, max_size=4)


def certificate_with(subject_rdns, serial):
    subject = x509.Name([x509.RelativeDistinguishedName([x509.NameAttribute(oid, value) for oid, value in rdn])
                         for rdn in subject_rdns])
    now = datetime.datetime(2030, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(KEY.public_key())
               .serial_number(serial).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName("a.test"),
                                                           x509.IPAddress(ipaddress.ip_address("2001:db8::1"))]),
                              critical=False))
    return builder.sign(KEY, hashes.SHA256())


@settings(max_examples=60, deadline=None, database=None)
@given(rdns, st.integers(1, 2 ** 159 - 1))
def test_names_render_like_cryptography(subject_rdns, serial):
    try:
        cert = certificate_with(subject_rdns, serial)
    except ValueError:
        return  # a value cryptography refuses to encode (e.g. a country code of the wrong length)
    parsed = der.parse_certificate(der_of(cert))
    assert parsed["subject"] == cert.subject.rfc4514_string()
    assert parsed["issuer"] == cert.issuer.rfc4514_string()
    assert parsed["serial"] == "%x" % serial
    assert parsed["not_before"] == "2030-06-01T12:00:00Z"
    assert parsed["dns_names"] == ["a.test"] and parsed["ip_addresses"] == ["2001:db8::1"]
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert parsed["subject_cn"] == (common_names[-1].value if common_names else None)
