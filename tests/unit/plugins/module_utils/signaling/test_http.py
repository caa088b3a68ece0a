# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the probe's HTTP/1.1 codec."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError, ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.signaling import http


def test_parse_response_head():
    response = http.parse_response_head(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                        b"Set-Cookie: a=1\r\nset-cookie: b=2\r\nX-Empty:\r\n\r\n")
    headers = (("content-type", "application/json"), ("set-cookie", "a=1"), ("set-cookie", "b=2"), ("x-empty", ""))
    assert response == http.Response("HTTP/1.1", 200, "OK", headers)
    assert http.header_value(response, "Set-Cookie") == "a=1, b=2"
    assert http.header_value(response, "Location") is None
    assert http.status_line(response) == "HTTP/1.1 200 OK"


def test_status_without_reason_and_bare_newlines():
    response = http.parse_response_head(b"HTTP/1.0 204\nConnection: close\n\n")
    assert (response.version, response.status, response.reason) == ("HTTP/1.0", 204, "")
    assert http.status_line(response) == "HTTP/1.0 204"
    assert http.header_tokens(response, "connection") == ["close"]


def test_header_tokens():
    response = http.parse_response_head(b"HTTP/1.1 101 Switching Protocols\r\nConnection: keep-alive, Upgrade\r\n"
                                        b"Connection: ,TE\r\n\r\n")
    assert http.header_tokens(response, "Connection") == ["keep-alive", "upgrade", "te"]
    assert http.header_tokens(response, "Upgrade") == []


@pytest.mark.parametrize("head", [
    b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
    b"HTTP/1.1 20 OK\r\n\r\n",
    b"HTTP/2 200\r\n\r\n",
    b"http/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n folded: line\r\n\r\n",
    b"",
])
def test_not_http_raises_parse_error(head):
    with pytest.raises(ParseError):
        http.parse_response_head(head)


@pytest.mark.parametrize("buffer, size", [
    (b"HTTP/1.1 200 OK\r\n\r\nbody", 19),
    (b"HTTP/1.1 200 OK\n\nbody", 17),
    (b"HTTP/1.1 200 OK\r\n", -1),
    (b"", -1),
])
def test_end_of_head(buffer, size):
    assert http.end_of_head(bytearray(buffer)) == size


@settings(max_examples=500, deadline=None, database=None)
@given(st.binary(max_size=300))
def test_fuzz_response_heads(data):
    try:
        response = http.parse_response_head(data)
    except ParseError:
        return
    assert 0 <= response.status <= 999
    assert all(name == name.lower() for name, value in response.headers)


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(100, 599), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
       st.lists(st.tuples(st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,15}\Z"),
                          st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=20)),
                max_size=5))
def test_heads_round_trip(status, reason, headers):
    head = "HTTP/1.1 %d %s\r\n" % (status, reason) + "".join("%s: %s\r\n" % pair for pair in headers) + "\r\n"
    response = http.parse_response_head(head.encode("latin-1"))
    assert response.status == status
    assert response.reason == reason
    assert list(response.headers) == [(name.lower(), value) for name, value in headers]


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("host, port, default, expected", [
    ("signal.dlegate.test", 443, 443, "signal.dlegate.test"),
    ("signal.dlegate.test", 8443, 443, "signal.dlegate.test:8443"),
    ("2001:db8::10", 443, 443, "[2001:db8::10]"),
    ("2001:db8::10", 443, None, "[2001:db8::10]:443"),
    ("198.18.11.10", 443, None, "198.18.11.10:443"),
])
def test_host_header(host, port, default, expected):
    assert http.host_header(host, port, default) == expected


def test_get_request():
    assert http.get_request("/", "signal.dlegate.test") == (
        b"GET / HTTP/1.1\r\nHost: signal.dlegate.test\r\nUser-Agent: dlegate-rtc-probe/1\r\nAccept: */*\r\n"
        b"Connection: close\r\n\r\n")


def test_connect_request():
    assert http.connect_request("signal.dlegate.test", 443) == (
        b"CONNECT signal.dlegate.test:443 HTTP/1.1\r\nHost: signal.dlegate.test:443\r\n"
        b"User-Agent: dlegate-rtc-probe/1\r\n\r\n")
    assert b"\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n" in http.connect_request(
        "2001:db8::10", 443, http.basic_credentials("Aladdin", "open sesame"))
    assert http.connect_request("2001:db8::10", 443).startswith(b"CONNECT [2001:db8::10]:443 HTTP/1.1\r\n")


def test_basic_credentials_rfc7617_example():
    assert http.basic_credentials("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    assert http.basic_credentials("test", "123\u00a3") == "Basic dGVzdDoxMjPCow=="


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("http://proxy.corp.test:3128", ("proxy.corp.test", 3128)),
    ("HTTP://proxy.corp.test:8080/", ("proxy.corp.test", 8080)),
    ("http://198.18.10.254:3128", ("198.18.10.254", 3128)),
    ("http://[2001:db8::3128]:3128", ("2001:db8::3128", 3128)),
])
def test_parse_proxy_url(url, expected):
    assert http.parse_proxy_url(url) == expected


@pytest.mark.parametrize("url, message", [
    ("https://proxy.corp.test:3128", "must be http://"),
    ("socks5://proxy.corp.test:1080", "must be http://"),
    ("proxy.corp.test:3128", "must be http://"),
    ("http://proxy.corp.test", "give the proxy's port"),
    ("http://user:secret@proxy.corp.test:3128", "proxy_username"),
    ("http://proxy.corp.test:3128/path", "must be http://"),
    ("http://proxy.corp.test:0", "out of range"),
    ("http://proxy.corp.test:65536", "out of range"),
    ("http://[not-v6]:3128", "not an IPv6 address"),
    ("http://2001:db8::1:3128", "give the proxy's port"),
    (None, "must be http://"),
])
def test_parse_proxy_url_rejects(url, message):
    with pytest.raises(FieldError, match=message) as caught:
        http.parse_proxy_url(url)
    assert caught.value.field == "proxy"


@pytest.mark.parametrize("path, ok", [
    ("/", True), ("/ws", True), ("/bytes/10?x=1", True), ("", False), ("ws", False), ("/a b", False),
    ("/a\r\nX-Injected: 1", False), ("/\u00e9", False), (None, False),
])
def test_validate_path(path, ok):
    if ok:
        assert http.validate_path(path, "path") == path
    else:
        with pytest.raises(FieldError):
            http.validate_path(path, "path")
