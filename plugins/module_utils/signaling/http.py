# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The little HTTP/1.1 a signalling probe speaks: request heads, response heads, proxy CONNECT.

Pure functions on bytes and text. A response head that is not HTTP raises
ParseError; bad arguments raise FieldError.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections import namedtuple

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError, ParseError

USER_AGENT = "dlegate-rtc-probe/1"
MAX_HEAD = 64 * 1024
STATUS_LINE = re.compile(r"^(HTTP/\d\.\d) (\d{3})(?: (.*))?$")
TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
PATH = re.compile(r"^/[\x21-\x7e]*$")
HEAD_ENDS = (b"\r\n\r\n", b"\n\n")

Response = namedtuple("Response", "version status reason headers")


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------

def host_header(host, port, default_port=443):
    """The Host header (and CONNECT authority) form: IPv6 in brackets, the port unless it is the default."""
    try:
        bracketed = "[%s]" % host if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        bracketed = host
    return bracketed if port == default_port else "%s:%d" % (bracketed, port)


def request_head(method, target, host, headers=()):
    """An HTTP/1.1 request head; ``headers`` are (name, value) pairs after Host and User-Agent."""
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: %s" % host, "User-Agent: %s" % USER_AGENT]
    lines.extend("%s: %s" % (name, value) for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def get_request(path, host):
    return request_head("GET", path, host, [("Accept", "*/*"), ("Connection", "close")])


def connect_request(host, port, authorization=None):
    """A proxy CONNECT for host:port (RFC 9110 section 9.3.6)."""
    authority = host_header(host, port, default_port=None)
    headers = [("Proxy-Authorization", authorization)] if authorization else []
    return request_head("CONNECT", authority, authority, headers)


def basic_credentials(username, password):
    """The value of a Basic (Proxy-)Authorization header (RFC 7617)."""
    token = ("%s:%s" % (username, password or "")).encode("utf-8")
    return "Basic " + base64.b64encode(token).decode("ascii")


# ---------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------

def end_of_head(buffer):
    """Length of the response head at the start of ``buffer`` (terminator included), or -1 if incomplete."""
    ends = [(buffer.find(end), len(end)) for end in HEAD_ENDS]
    found = [index + size for index, size in ends if index >= 0]
    return min(found) if found else -1


def parse_response_head(head):
    """A response head (bytes, terminator optional) -> Response; ParseError when it is not HTTP."""
    lines = re.split(r"\r?\n", bytes(head).decode("latin-1").rstrip("\r\n"))
    match = STATUS_LINE.match(lines[0])
    if not match:
        raise ParseError("not an HTTP status line: %r" % lines[0][:80])
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not TOKEN.match(name):
            raise ParseError("not an HTTP header line: %r" % line[:80])
        headers.append((name.lower(), value.strip(" \t")))
    return Response(match.group(1), int(match.group(2)), match.group(3) or "", tuple(headers))


def status_line(response):
    return ("%s %d %s" % (response.version, response.status, response.reason)).rstrip()


def header_value(response, name):
    """The header's values joined with ", " (RFC 9110 section 5.3), or None when absent."""
    values = [value for header, value in response.headers if header == name.lower()]
    return ", ".join(values) if values else None


def header_tokens(response, name):
    """The comma-separated tokens of a header, lower case."""
    value = header_value(response, name) or ""
    return [token.strip().lower() for token in value.split(",") if token.strip()]


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

def validate_path(path, field):
    """A request target in origin form: starts with /, visible ASCII only."""
    if not isinstance(path, str) or not PATH.match(path):
        raise FieldError(field, "must start with / and hold only visible ASCII characters, not %r" % (path,))
    return path


def parse_proxy_url(url, field="proxy"):
    """``http://HOST:PORT`` -> (host, port); the proxy is asked with CONNECT over plain TCP."""
    match = re.match(r"^http://(?P<authority>[^/?#]*)/?$", url.strip(), re.IGNORECASE) if isinstance(url, str) else None
    if not match:
        raise FieldError(field, "must be http://HOST:PORT (an HTTP proxy that supports CONNECT), not %r" % (url,))
    authority = match.group("authority")
    if "@" in authority:
        raise FieldError(field, "give the credentials in proxy_username and proxy_password, not in the URL")
    bracketed = re.match(r"^\[(?P<host>[^\]]+)\]:(?P<port>\d+)$", authority)
    plain = re.match(r"^(?P<host>[^:\[\]]+):(?P<port>\d+)$", authority)
    found = bracketed or plain
    if not found:
        raise FieldError(field, "give the proxy's port, as in http://proxy.example:3128, not %r" % url)
    host, port = found.group("host"), int(found.group("port"))
    if bracketed:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise FieldError(field, "%r in brackets is not an IPv6 address" % host)
    if not 0 < port < 65536:
        raise FieldError(field, "port %d is out of range 1-65535" % port)
    return host, port
