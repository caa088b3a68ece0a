# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The socket side of the signalling probe: every operation runs against a deadline.

A :class:`Deadline` bounds one step (resolving, connecting, a TLS handshake,
an HTTP exchange, a WebSocket echo) as a whole: each socket call gets only
the time left, so a peer that drips one byte a second cannot stretch a step.
Failures raise :class:`StepError` (or its :class:`StepTimeout`) with a short
text for the evidence; peers that break a protocol raise ParseError.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError, ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.signaling import http, websocket

READ_SIZE = 16384


class StepError(Exception):
    """A step failed; the text is the evidence."""


class StepTimeout(StepError):
    """A step ran out of time."""


class ResolveError(StepError):
    """The name did not resolve (in time)."""


class Deadline:
    """The time one step may take, counted from its creation."""

    def __init__(self, seconds, clock=time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.expires = clock() + seconds

    def remaining(self):
        """Seconds left; StepTimeout when none are."""
        left = self.expires - self.clock()
        if left <= 0:
            raise StepTimeout("timed out after %.1f s" % self.seconds)
        return left


class Stopwatch:
    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.start = clock()

    def ms(self):
        return round((self.clock() - self.start) * 1000.0, 2)


# ---------------------------------------------------------------------------
# Resolving and connecting
# ---------------------------------------------------------------------------

def resolve(host, port, deadline):
    """getaddrinfo() for a TCP connection, bounded by ``deadline`` -> [(family, sockaddr)]."""
    outcome = {}

    def lookup():
        try:
            outcome["addresses"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            outcome["error"] = exc

    # getaddrinfo() has no timeout of its own; the thread is left behind if it hangs.
    worker = threading.Thread(target=lookup, name="resolve %s" % host)
    worker.daemon = True
    worker.start()
    worker.join(deadline.remaining())
    if worker.is_alive():
        raise ResolveError("resolving %s timed out after %.1f s" % (host, deadline.seconds))
    if "error" in outcome:
        raise ResolveError("cannot resolve %s: %s" % (host, outcome["error"]))
    addresses = []
    for family, _type, _proto, _name, sockaddr in outcome["addresses"]:
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise ResolveError("cannot resolve %s: no address" % host)
    return addresses


def connect(addresses, deadline):
    """A TCP connection to the first address that accepts -> (socket, address text)."""
    errors = []
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(sockaddr)
            # small request/answer exchanges: Nagle's algorithm would add delayed-ACK waits to the timings
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock, sockaddr[0]
        except socket.timeout:
            errors.append("%s: timed out" % sockaddr[0])
        except OSError as exc:
            errors.append("%s: %s" % (sockaddr[0], exc.strerror or exc))
        except StepTimeout:
            sock.close()
            break
        sock.close()
    raise StepError("connect to port %d failed (%s)" % (addresses[0][1][1], "; ".join(errors) or
                                                        "timed out after %.1f s" % deadline.seconds))


class Connection:
    """A connected socket (plain or TLS) with a read buffer; each call takes a Deadline."""

    def __init__(self, sock, address=None):
        self.sock = sock
        self.address = address
        self.buffer = bytearray()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data, deadline):
        view = memoryview(data)
        while view:
            try:
                self.sock.settimeout(deadline.remaining())
                sent = self.sock.send(view)
            except socket.timeout:
                raise StepTimeout("sending timed out after %.1f s" % deadline.seconds)
            except OSError as exc:
                raise StepError("sending failed: %s" % (exc.strerror or exc))
            view = view[sent:]

    def read_more(self, deadline):
        try:
            self.sock.settimeout(deadline.remaining())
            chunk = self.sock.recv(READ_SIZE)
        except socket.timeout:
            raise StepTimeout("no answer within %.1f s" % deadline.seconds)
        except OSError as exc:
            raise StepError("reading failed: %s" % (exc.strerror or exc))
        if not chunk:
            raise StepError("the peer closed the connection")
        self.buffer += chunk

    def read_head(self, deadline, limit=http.MAX_HEAD):
        """The next HTTP response head -> http.Response; the bytes after it stay buffered."""
        while True:
            size = http.end_of_head(self.buffer)
            if size >= 0:
                head = bytes(self.buffer[:size])
                del self.buffer[:size]
                return http.parse_response_head(head)
            if len(self.buffer) > limit:
                raise ParseError("no end of the response head in %d bytes" % limit)
            self.read_more(deadline)

    def read_frame(self, deadline, max_payload=websocket.DEFAULT_MAX_PAYLOAD):
        """The next WebSocket frame from the server."""
        while True:
            frame, used = websocket.decode_frame(self.buffer, max_payload=max_payload)
            if frame is not None:
                del self.buffer[:used]
                return frame
            self.read_more(deadline)


def open_connection(host, port, deadline, address=None):
    """Resolve (unless ``address`` is given) and connect -> (Connection, resolve ms or None, connect ms)."""
    resolve_ms = None
    if address is None:
        watch = Stopwatch()
        addresses = resolve(host, port, deadline)
        resolve_ms = watch.ms()
    else:
        addresses = resolve(address, port, deadline)
    watch = Stopwatch()
    sock, peer = connect(addresses, deadline)
    return Connection(sock, peer), resolve_ms, watch.ms()


# ---------------------------------------------------------------------------
# Proxy, TLS
# ---------------------------------------------------------------------------

class ProxyRefused(StepError):
    """The proxy answered CONNECT with something other than 2xx; the text is its status line."""


def tunnel(connection, host, port, deadline, authorization=None):
    """Ask the HTTP proxy on ``connection`` for a tunnel to host:port -> its status line."""
    connection.send(http.connect_request(host, port, authorization), deadline)
    try:
        response = connection.read_head(deadline)
    except ParseError as exc:
        raise ProxyRefused("the proxy's answer to CONNECT is not HTTP: %s" % exc)
    except StepError as exc:
        raise ProxyRefused("no answer to CONNECT: %s" % exc)
    line = http.status_line(response)
    if response.status // 100 != 2:
        raise ProxyRefused(line)
    if connection.buffer:
        raise ProxyRefused("the proxy sent data before the tunnel was used (%s)" % line)
    return line


def tls_context(ca_path=None, verify=True):
    """A client context: verifying against ``ca_path`` (a PEM bundle or a hashed directory; the
    system's store when None), or not verifying at all, to read a certificate that does not validate."""
    if verify:
        try:
            if ca_path and os.path.isdir(ca_path):
                context = ssl.create_default_context(capath=ca_path)
            else:
                context = ssl.create_default_context(cafile=ca_path)
        except (OSError, ssl.SSLError) as exc:
            raise FieldError("ca_path", "cannot load CA certificates from %s: %s" % (ca_path, exc))
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


class CertificateRejected(StepError):
    """The handshake failed on certificate verification; ``reason`` says why."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def start_tls(connection, context, server_name, deadline):
    """The TLS handshake on ``connection`` -> a Connection over TLS."""
    try:
        connection.sock.settimeout(deadline.remaining())
        tls = context.wrap_socket(connection.sock, server_hostname=server_name, do_handshake_on_connect=False)
        tls.do_handshake()
    except ssl.SSLCertVerificationError as exc:
        connection.close()
        raise CertificateRejected(getattr(exc, "verify_message", None) or str(exc))
    except socket.timeout:
        connection.close()
        raise StepTimeout("the TLS handshake timed out after %.1f s" % deadline.seconds)
    except (ssl.SSLError, OSError) as exc:
        connection.close()
        raise StepError("the TLS handshake failed: %s" % (getattr(exc, "reason", None) or exc.strerror or exc))
    return Connection(tls, connection.address)


def peer_certificate(connection):
    """The DER certificate the TLS peer sent, or None."""
    return connection.sock.getpeercert(binary_form=True)


# ---------------------------------------------------------------------------
# HTTP and WebSocket exchanges
# ---------------------------------------------------------------------------

def http_get(connection, path, host, deadline):
    """GET ``path`` -> the response head."""
    connection.send(http.get_request(path, host), deadline)
    return connection.read_head(deadline)


def websocket_echo(connection, path, host, text, deadline, nonce=None, mask_key=None):
    """Upgrade to a WebSocket, send ``text`` in a masked text frame and read the echo.

    Returns the 101 response; raises StepError or ParseError when the upgrade or
    the echo fails. ``nonce`` and ``mask_key`` are random unless given.
    """
    key = websocket.new_key(nonce or os.urandom(16))
    connection.send(websocket.handshake_request(path, host, key), deadline)
    response = connection.read_head(deadline)
    websocket.check_handshake(response, key)
    sent = text.encode("utf-8")
    connection.send(websocket.encode_frame(websocket.TEXT, sent, mask_key or os.urandom(4)), deadline)
    echoed = read_message(connection, deadline)
    if echoed != (websocket.TEXT, sent):
        raise StepError("the echo differs: sent %d bytes of text, received %d bytes (opcode 0x%x)"
                        % (len(sent), len(echoed[1]), echoed[0]))
    close_websocket(connection, deadline)
    return response


def read_message(connection, deadline):
    """The next data message -> (opcode, payload), answering pings on the way."""
    opcode, parts = None, []
    while True:
        frame = connection.read_frame(deadline)
        if frame.opcode == websocket.PING:
            connection.send(websocket.encode_frame(websocket.PONG, frame.payload, os.urandom(4)), deadline)
            continue
        if frame.opcode == websocket.PONG:
            continue
        if frame.opcode == websocket.CLOSE:
            code, reason = websocket.parse_close(frame.payload)
            raise StepError("the server closed the WebSocket (code %s%s)" % (code, ", " + reason if reason else ""))
        if (frame.opcode == websocket.CONTINUATION) != (opcode is not None):
            raise ParseError("a %s frame out of sequence" % ("continuation" if opcode is None else "new data"))
        opcode = frame.opcode if opcode is None else opcode
        parts.append(frame.payload)
        if frame.fin:
            return opcode, b"".join(parts)


def close_websocket(connection, deadline):
    """Send a Close frame; the server's answer is not waited for (best effort)."""
    try:
        connection.send(websocket.encode_frame(websocket.CLOSE, websocket.close_payload(), os.urandom(4)), deadline)
    except StepError:
        pass
