# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Peers for the signalling tests, all on 127.0.0.1 and started by the tests themselves.

* :func:`make_pki`: a throwaway service CA, a second "inspecting" CA, and a leaf
  for the service's name from each (cryptography, controller side only).
* :class:`SignalServer`: HTTPS and a WebSocket echo, like the lab's signal host,
  or a hostile variant (garbage, silence, a dripping answer, a wrong accept key...).
  Its WebSocket side is written here from RFC 6455, independently of the
  collection's codec, so the two check each other.
* :class:`ConnectProxy`: a minimal HTTP CONNECT proxy that routes names to local ports.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import select
import socket
import socketserver
import ssl
import struct
import threading
from collections import namedtuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SERVICE_NAME = "signal.dlegate.test"
RFC6455_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

Pki = namedtuple("Pki", "service_ca inspect_ca both_cas service_cert service_key inspected_cert inspected_key "
                        "service_pin inspected_pin service_der")


# ---------------------------------------------------------------------------
# Certificates
# ---------------------------------------------------------------------------

def _name(common_name, organization):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(builder):
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))


def make_ca(common_name, organization):
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name, organization)
    builder = _validity(x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                        .serial_number(x509.random_serial_number()))
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    builder = builder.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                  key_encipherment=False, data_encipherment=False,
                                                  key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                  encipher_only=False, decipher_only=False), critical=True)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    return builder.sign(key, hashes.SHA256()), key


def make_leaf(common_name, organization, ca_cert, ca_key, names=(SERVICE_NAME,), addresses=("127.0.0.1",)):
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names = [x509.DNSName(name) for name in names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    builder = _validity(x509.CertificateBuilder().subject_name(_name(common_name, organization))
                        .issuer_name(ca_cert.subject).public_key(key.public_key())
                        .serial_number(x509.random_serial_number()))
    builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                    critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def spki_pin_of(cert):
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_pki(directory):
    service_ca, service_ca_key = make_ca("DLEGATE Test Root CA", "DLEGATE")
    inspect_ca, inspect_ca_key = make_ca("Corp TLS Inspection CA", "Corp")
    service, service_key = make_leaf(SERVICE_NAME, "DLEGATE", service_ca, service_ca_key)
    inspected, inspected_key = make_leaf(SERVICE_NAME, "Corp", inspect_ca, inspect_ca_key)
    files = {"service_ca": _pem(service_ca), "inspect_ca": _pem(inspect_ca),
             "both_cas": _pem(service_ca) + _pem(inspect_ca),
             "service_cert": _pem(service), "service_key": _key_pem(service_key),
             "inspected_cert": _pem(inspected), "inspected_key": _key_pem(inspected_key)}
    paths = {}
    for name, data in files.items():
        paths[name] = os.path.join(str(directory), name + ".pem")
        with open(paths[name], "wb") as handle:
            handle.write(data)
    return Pki(service_pin=spki_pin_of(service), inspected_pin=spki_pin_of(inspected),
               service_der=service.public_bytes(serialization.Encoding.DER), **paths)


# ---------------------------------------------------------------------------
# Threaded servers on 127.0.0.1
# ---------------------------------------------------------------------------

class _Threaded(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _LocalServer:
    handler = None

    def __init__(self):
        self.stopping = threading.Event()
        self.server = _Threaded(("127.0.0.1", 0), self.handler)
        self.server.owner = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


class Buffered:
    """A socket with a read buffer, for the test peers."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def read_until(self, marker, limit=65536):
        while marker not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk or len(self.buffer) > limit:
                return None
            self.buffer += chunk
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def read_exact(self, size):
        while len(self.buffer) < size:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def parse_request(head):
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1) if ":" in line else (line, "")
        headers[name.strip().lower()] = value.strip()
    return method, target, headers


def server_frame(opcode, payload, fin=True, mask=None):
    """A frame as a server sends it (unmasked unless ``mask``), encoded here from RFC 6455 section 5.2."""
    first = (0x80 if fin else 0) | opcode
    mask_bit = 0x80 if mask else 0
    if len(payload) < 126:
        head = struct.pack("!BB", first, mask_bit | len(payload))
    elif len(payload) < 65536:
        head = struct.pack("!BBH", first, mask_bit | 126, len(payload))
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, len(payload))
    if mask:
        payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        return head + mask + payload
    return head + payload


def read_client_frame(peer):
    """(opcode, masked, payload) of the client's next frame."""
    first, second = peer.read_exact(2)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", peer.read_exact(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", peer.read_exact(8))[0]
    masked = bool(second & 0x80)
    mask = peer.read_exact(4) if masked else b"\0\0\0\0"
    data = peer.read_exact(size)
    return first & 0x0F, masked, bytes(byte ^ mask[index % 4] for index, byte in enumerate(data))


class _SignalHandler(socketserver.BaseRequestHandler):
    def handle(self):
        owner = self.server.owner
        self.request.settimeout(5)
        # as asyncio servers (the lab's) do; without it Nagle's algorithm delays the echo by a delayed ACK
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        behaviour = owner.behaviour
        if behaviour == "garbage":
            self.request.sendall(b"\x00\xffthis is not TLS\r\n" * 8)
            return
        if behaviour == "silent":
            owner.stopping.wait(10)
            return
        try:
            tls = owner.context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            owner.events.append(("tls_refused", str(exc)))
            return
        owner.events.append(("tls", None))
        peer = Buffered(tls)
        try:
            head = peer.read_until(b"\r\n\r\n")
            if head is None:
                return
            method, target, headers = parse_request(head)
            owner.requests.append((method, target, headers))
            if headers.get("upgrade", "").lower() == "websocket":
                self.websocket(owner, peer, headers)
            else:
                self.https(owner, tls, target)
        except (OSError, EOFError, ValueError) as exc:
            owner.events.append(("error", str(exc)))
        finally:
            tls.close()

    def https(self, owner, tls, target):
        if owner.behaviour == "slow_http":
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                if owner.stopping.wait(0.1):
                    return
                tls.sendall(bytes([byte]))
            return
        if owner.behaviour == "http_garbage":
            tls.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
            return
        status = "403 Forbidden" if owner.behaviour == "forbidden" else "200 OK"
        body = json.dumps({"service": "dlegate-signal", "status": "ok", "path": target}).encode() + b"\n"
        tls.sendall(("HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                     % (status, len(body))).encode("latin-1") + body)

    def websocket(self, owner, peer, headers):
        key = headers.get("sec-websocket-key", "").encode("ascii")
        accept = base64.b64encode(hashlib.sha1(key + RFC6455_GUID).digest())
        if owner.behaviour == "wrong_accept":
            accept = base64.b64encode(hashlib.sha1(key).digest())
        if owner.behaviour == "no_upgrade":
            peer.sock.sendall(b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n")
            return
        peer.sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        opcode, masked, payload = read_client_frame(peer)
        owner.client_frames.append((opcode, masked, payload))
        if owner.behaviour == "ws_ping":
            peer.sock.sendall(server_frame(0x9, b"heartbeat"))
            owner.client_frames.append(read_client_frame(peer))
        if owner.behaviour == "ws_close":
            peer.sock.sendall(server_frame(0x8, struct.pack("!H", 1011) + b"overloaded"))
            return
        if owner.behaviour == "ws_masked":
            peer.sock.sendall(server_frame(opcode, payload, mask=b"\x01\x02\x03\x04"))
            return
        if owner.behaviour == "ws_wrong_echo":
            payload = payload[::-1]
        if owner.behaviour == "ws_fragmented":
            peer.sock.sendall(server_frame(opcode, payload[:5], fin=False) + server_frame(0x0, payload[5:]))
        else:
            peer.sock.sendall(server_frame(opcode, payload))
        owner.client_frames.append(read_client_frame(peer))


class SignalServer(_LocalServer):
    """HTTPS + WebSocket echo with ``cert``/``key``; ``behaviour`` selects a hostile variant."""

    handler = _SignalHandler

    def __init__(self, cert=None, key=None, behaviour="echo"):
        super().__init__()
        self.behaviour = behaviour
        self.events, self.requests, self.client_frames = [], [], []
        self.context = None
        if cert:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(cert, key)


class _ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self):
        owner = self.server.owner
        self.request.settimeout(5)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = Buffered(self.request)
        head = peer.read_until(b"\r\n\r\n")
        if head is None:
            return
        method, authority, headers = parse_request(head)
        owner.requests.append((method, authority, headers.get("proxy-authorization")))
        if owner.behaviour == "garbage":
            self.request.sendall(b"\x00\x01\x02 nonsense\r\n\r\n")
            return
        route = owner.routes.get(authority)
        if method != "CONNECT" or route is None:
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        if owner.credentials and headers.get("proxy-authorization") != owner.credentials:
            self.request.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                                 b"Proxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n")
            return
        upstream = socket.create_connection(route, timeout=5)
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.pipe(owner, self.request, upstream)

    @staticmethod
    def pipe(owner, client, upstream):
        sockets = [client, upstream]
        try:
            while not owner.stopping.is_set():
                readable = select.select(sockets, [], [], 0.1)[0]
                for sock in readable:
                    data = sock.recv(16384)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        except OSError:
            return
        finally:
            upstream.close()


class ConnectProxy(_LocalServer):
    """``routes`` maps a CONNECT authority (``name:port``) to a local (address, port); others get 403."""

    handler = _ProxyHandler

    def __init__(self, routes, credentials=None, behaviour="proxy"):
        super().__init__()
        self.routes = routes
        self.credentials = credentials
        self.behaviour = behaviour
        self.requests = []
        self.url = "http://127.0.0.1:%d" % self.port


def closed_tcp_port():
    """A TCP port on 127.0.0.1 that nothing listens on (just released)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
