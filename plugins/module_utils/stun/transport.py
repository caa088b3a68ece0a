# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sockets for STUN and TURN over UDP, TCP and TLS, each operation bounded by a deadline.

A transport sends whole frames and receives whole frames: one datagram over
UDP, one STUN message or ChannelData frame cut from the byte stream over TCP
and TLS (RFC 8489 section 6.2.2, RFC 8656 section 12.5). Every network
failure becomes a :class:`ProbeError` whose ``code`` is a finding the caller
reports as data (``timeout``, ``connection_refused``, ``certificate_invalid``...).
"""

from __future__ import annotations

import errno
import socket
import ssl
import time

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.codec import stream_frame_length

TRANSPORTS = ("udp", "tcp", "tls")
DEFAULT_PORTS = {"udp": 3478, "tcp": 3478, "tls": 5349}
MAX_DATAGRAM = 65535
RECEIVE_CHUNK = 65536

# The codes a probe reports in its ``error`` result.
TIMEOUT = "timeout"
RESOLVE_FAILED = "resolve_failed"
CONNECTION_REFUSED = "connection_refused"
CONNECTION_CLOSED = "connection_closed"
UNREACHABLE = "unreachable"
CERTIFICATE_INVALID = "certificate_invalid"
TLS_FAILED = "tls_handshake_failed"
MALFORMED_RESPONSE = "malformed_response"
NETWORK_ERROR = "network_error"

UNREACHABLE_ERRNOS = (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.EADDRNOTAVAIL)


class ProbeError(Exception):
    """A network outcome to report, not a bug: ``code`` is one of the codes above, ``detail`` says more."""

    def __init__(self, code, detail):
        super().__init__("%s: %s" % (code, detail))
        self.code = code
        self.detail = detail


class Deadline(object):
    """An absolute point on the monotonic clock that every socket operation of a probe respects."""

    def __init__(self, seconds, clock=time.monotonic):
        self.clock = clock
        self.at = clock() + seconds

    def remaining(self):
        return max(self.at - self.clock(), 0.0)

    def expired(self):
        return self.remaining() <= 0.0

    def earlier(self, seconds):
        """A deadline ``seconds`` before this one (never in the past relative to now)."""
        child = Deadline(0, self.clock)
        child.at = max(self.at - seconds, self.clock())
        return child


class Target(object):
    """Where a probe goes: host (name or address), port, transport and the TLS settings."""

    __slots__ = ("host", "port", "transport", "server_name", "ca_path", "validate_certs")

    def __init__(self, host, port=None, transport="udp", server_name=None, ca_path=None, validate_certs=True):
        self.host = host
        self.port = DEFAULT_PORTS.get(transport, 3478) if port is None else port
        self.transport = transport
        self.server_name = server_name
        self.ca_path = ca_path
        self.validate_certs = validate_certs

    @property
    def tls_server_name(self):
        return self.server_name or self.host

    def __repr__(self):
        return "Target(%s:%d/%s)" % (self.host, self.port, self.transport)


def resolve(target):
    """The first (family, sockaddr) for the target; ProbeError resolve_failed when there is none."""
    kind = socket.SOCK_DGRAM if target.transport == "udp" else socket.SOCK_STREAM
    try:
        infos = socket.getaddrinfo(target.host, target.port, socket.AF_UNSPEC, kind)
    except (socket.gaierror, UnicodeError) as exc:
        raise ProbeError(RESOLVE_FAILED, "cannot resolve %s: %s" % (target.host, exc))
    if not infos:
        raise ProbeError(RESOLVE_FAILED, "%s has no address" % target.host)
    family, _type, _proto, _name, sockaddr = infos[0]
    return family, sockaddr


def tls_context(target):
    """A client context: the CA bundle at ``ca_path`` (or the system's), hostname checked unless told not to."""
    context = ssl.create_default_context(cafile=target.ca_path)
    if not target.validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def network_error(exc, what):
    """The ProbeError for an OSError raised while ``what``."""
    if isinstance(exc, socket.timeout):
        return ProbeError(TIMEOUT, "%s timed out" % what)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ProbeError(CERTIFICATE_INVALID, "%s: %s" % (what, getattr(exc, "verify_message", None) or exc))
    if isinstance(exc, ssl.SSLError):
        return ProbeError(TLS_FAILED, "%s: %s" % (what, getattr(exc, "reason", None) or exc))
    if isinstance(exc, ConnectionRefusedError):
        return ProbeError(CONNECTION_REFUSED, "%s: connection refused" % what)
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return ProbeError(CONNECTION_CLOSED, "%s: the server closed the connection" % what)
    if exc.errno in UNREACHABLE_ERRNOS:
        return ProbeError(UNREACHABLE, "%s: %s" % (what, exc.strerror or exc))
    return ProbeError(NETWORK_ERROR, "%s: %s" % (what, exc.strerror or exc))


class Transport(object):
    """The common part: the socket, the server's address, timeouts from the deadline."""

    stream = False
    channel_data = False
    partial_frame = False

    def __init__(self, sock, target, sockaddr):
        self.sock = sock
        self.target = target
        self.server_address = sockaddr[0]

    @property
    def local_address(self):
        return self.sock.getsockname()[:2]

    def _timeout_until(self, until):
        wait = until - time.monotonic()
        if wait <= 0:
            return None
        self.sock.settimeout(wait)
        return wait

    def send(self, frame, deadline):
        if self._timeout_until(deadline.at) is None:
            raise ProbeError(TIMEOUT, "the probe deadline passed before sending")
        try:
            self.sock.sendall(frame)
        except (OSError, ssl.SSLError) as exc:
            raise network_error(exc, "sending to %s" % self.target.host)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class DatagramTransport(Transport):
    """A connected UDP socket: the kernel drops datagrams from any other source."""

    def receive(self, until):
        """One datagram, or None when nothing arrived before ``until`` (a monotonic time)."""
        if self._timeout_until(until) is None:
            return None
        try:
            return self.sock.recv(MAX_DATAGRAM)
        except socket.timeout:
            return None
        except OSError as exc:
            raise network_error(exc, "receiving from %s" % self.target.host)


class StreamTransport(Transport):
    """TCP or TLS: frames are cut from the stream by their own length fields."""

    stream = True

    def __init__(self, sock, target, sockaddr):
        super(StreamTransport, self).__init__(sock, target, sockaddr)
        self.buffer = bytearray()
        self.channel_data = False  # set once a channel is bound: ChannelData may arrive

    @property
    def partial_frame(self):
        """True while the start of a frame waits for the rest."""
        return bool(self.buffer)

    def receive(self, until):
        """One STUN message or ChannelData frame (padding stripped), or None at ``until``.

        A stream that is not STUN cannot be re-synchronised, so its first bad
        byte is a ProbeError malformed_response."""
        while True:
            try:
                needed = stream_frame_length(self.buffer, self.channel_data)
            except ParseError as exc:
                raise ProbeError(MALFORMED_RESPONSE, str(exc))
            if needed is not None and len(self.buffer) >= needed:
                frame = bytes(self.buffer[:needed])
                del self.buffer[:needed]
                return frame
            if not self._read(until):
                return None

    def _read(self, until):
        if self._timeout_until(until) is None:
            return False
        try:
            chunk = self.sock.recv(RECEIVE_CHUNK)
        except socket.timeout:
            return False
        except (OSError, ssl.SSLError) as exc:
            raise network_error(exc, "receiving from %s" % self.target.host)
        if not chunk:
            detail = "the server closed the connection"
            if self.buffer:
                raise ProbeError(MALFORMED_RESPONSE, "%s in the middle of a frame" % detail)
            raise ProbeError(CONNECTION_CLOSED, detail)
        self.buffer.extend(chunk)
        return True


def open_transport(target, deadline):
    """A connected transport to the target; the TLS handshake is done too. ProbeError when it fails."""
    family, sockaddr = resolve(target)
    kind = socket.SOCK_DGRAM if target.transport == "udp" else socket.SOCK_STREAM
    sock = socket.socket(family, kind)
    try:
        sock.settimeout(max(deadline.remaining(), 0.001))
        try:
            sock.connect(sockaddr)
        except (OSError, ssl.SSLError) as exc:
            raise network_error(exc, "connecting to %s port %d" % (target.host, target.port))
        if target.transport == "udp":
            return DatagramTransport(sock, target, sockaddr)
        if target.transport == "tls":
            sock = _handshake(sock, target, deadline)
        return StreamTransport(sock, target, sockaddr)
    except BaseException:
        sock.close()
        raise


def _handshake(sock, target, deadline):
    try:
        context = tls_context(target)
    except (OSError, ssl.SSLError) as exc:
        raise ProbeError(TLS_FAILED, "cannot load the CA bundle: %s" % exc)
    sock.settimeout(max(deadline.remaining(), 0.001))
    try:
        return context.wrap_socket(sock, server_hostname=target.tls_server_name)
    except (OSError, ssl.SSLError) as exc:  # certificate errors are SSLErrors (and ValueErrors)
        raise network_error(exc, "TLS handshake with %s" % target.host)
    except ValueError as exc:
        raise ProbeError(TLS_FAILED, "TLS to %s: %s" % (target.host, exc))
