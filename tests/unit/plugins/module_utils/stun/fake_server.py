# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small STUN/TURN server on 127.0.0.1 (UDP and TCP) for the client and module tests.

It answers Binding requests (TCP optionally wrapped in TLS) and runs the TURN long-term credential exchange
(401 challenge, optional 438 stale nonce, a configurable rejection code),
Allocate, Refresh, CreatePermission and ChannelBind. Packets a client sends to
its own relayed address come straight back as Data indications or ChannelData,
which is what a real relay does for that peer. ``hostile`` replaces every
answer with something a careful client must survive.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import threading

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.stun import codec


class FakeServer(object):
    def __init__(self, users=None, realm="lab.test", stale_nonce_once=False, reject_code=401,
                 hostile=None, drop_first=0, relay_drop_every=0, mapped=True, forbid_peer=False, tls=None,
                 binding_error=None):
        self.users = users or {}
        self.realm = realm
        self.stale_nonce_once = stale_nonce_once
        self.reject_code = reject_code
        self.hostile = hostile
        self.drop_first = drop_first
        self.relay_drop_every = relay_drop_every
        self.mapped = mapped
        self.forbid_peer = forbid_peer
        self.tls = tls
        self.binding_error = binding_error
        self.nonce = b"nonce-1"
        self.allocations = {}
        self.log = []
        self.received_raw = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.threads = []

    @property
    def udp_port(self):
        return self.udp.getsockname()[1]

    @property
    def tcp_port(self):
        return self.tcp.getsockname()[1]

    def port(self, transport):
        return self.udp_port if transport == "udp" else self.tcp_port

    def __enter__(self):
        for target in (self._serve_udp, self._serve_tcp):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(5)
        self.udp.close()
        self.tcp.close()

    def methods(self, message_class=codec.REQUEST):
        """The methods of the messages of a class received so far, in order."""
        with self.lock:
            return [method for method, cls, _attrs in self.log if cls == message_class]

    # -- transports ------------------------------------------------------------

    def _serve_udp(self):
        while not self.stopping.is_set():
            ready, _w, _x = select.select([self.udp], [], [], 0.05)
            if not ready:
                continue
            data, client = self.udp.recvfrom(65535)
            for frame in self.answer(data, client, stream=False):
                self.udp.sendto(frame, client)

    def _serve_tcp(self):
        while not self.stopping.is_set():
            ready, _w, _x = select.select([self.tcp], [], [], 0.05)
            if ready:
                conn, client = self.tcp.accept()
                if self.tls is not None:
                    conn = self._handshake(conn)
                    if conn is None:
                        continue
                thread = threading.Thread(target=self._serve_connection, args=(conn, client), daemon=True)
                thread.start()

    def _handshake(self, conn):
        """TLS on an accepted connection (``tls`` is a server SSLContext); None when the client gives up."""
        conn.settimeout(5)
        try:
            return self.tls.wrap_socket(conn, server_side=True)
        except (OSError, ValueError):
            conn.close()
            return None

    def _serve_connection(self, conn, client):
        buffer = bytearray()
        with conn:
            while not self.stopping.is_set():
                pending = conn.pending() if hasattr(conn, "pending") else 0
                ready, _w, _x = select.select([conn], [], [], 0.05)
                if not ready and not pending:
                    continue
                try:
                    chunk = conn.recv(65536)
                except (OSError, ValueError):
                    return
                if not chunk:
                    return
                buffer.extend(chunk)
                while True:
                    try:
                        needed = codec.stream_frame_length(buffer, channel_data=True)
                    except ParseError:
                        return
                    if needed is None or len(buffer) < needed:
                        break
                    frame = bytes(buffer[:needed])
                    del buffer[:needed]
                    for answer in self.answer(frame, client, stream=True):
                        conn.sendall(answer)

    # -- answers ---------------------------------------------------------------

    def answer(self, data, client, stream):
        with self.lock:
            self.received_raw.append(data)
            if self.drop_first > 0:
                self.drop_first -= 1
                return []
            if codec.is_channel_data(data):
                return self._channel_data(data, client, stream)
            try:
                message = codec.decode_message(data)
            except ParseError:
                return []
            self.log.append((message.method, message.message_class, [a.type for a in message.attributes]))
            answers = self._dispatch(message, client, stream)
            return [self._hostile(frame, message) for frame in answers] if self.hostile else answers

    def _hostile(self, frame, message):
        if self.hostile == "garbage":
            return os.urandom(len(frame))
        if self.hostile == "truncated":
            return frame[:len(frame) - 7]
        if self.hostile == "wrong_transaction":
            return codec.append_fingerprint(frame[:8] + os.urandom(12) + frame[20:-8])
        if self.hostile == "not_stun_stream":
            return b"HTTP/1.1 400 Bad Request\r\n\r\n"
        if self.hostile == "bad_integrity":
            return self._corrupt_integrity(frame)
        return b""

    @staticmethod
    def _corrupt_integrity(frame):
        """The frame with one bit of its MESSAGE-INTEGRITY flipped and a FINGERPRINT that matches again."""
        attribute = codec.decode_message(frame).find(codec.MESSAGE_INTEGRITY)
        if attribute is None:
            return frame
        damaged = bytearray(frame[:-8])
        damaged[attribute.offset + 4] ^= 1
        return codec.append_fingerprint(bytes(damaged))

    def _dispatch(self, message, client, stream):
        if self.hostile == "silent":
            return []
        if message.method == codec.BINDING and message.message_class == codec.REQUEST:
            if self.binding_error:
                return [self._error(message, *self.binding_error)]
            return [self._success(message, self._mapped(client, message.transaction_id))]
        if message.message_class == codec.INDICATION and message.method == codec.SEND:
            return self._send_indication(message, client, stream)
        if message.message_class != codec.REQUEST:
            return []
        key, error = self._authenticate(message)
        if error is not None:
            return [error]
        handler = {codec.ALLOCATE: self._allocate, codec.REFRESH: self._refresh,
                   codec.CREATE_PERMISSION: self._permission, codec.CHANNEL_BIND: self._channel_bind}
        return [handler[message.method](message, client, key)]

    def _mapped(self, client, transaction_id):
        if not self.mapped:
            return []
        return [(codec.XOR_MAPPED_ADDRESS, codec.encode_xor_address(client[0], client[1], transaction_id))]

    @staticmethod
    def _success(message, attributes, key=None):
        return codec.encode_message(message.method, codec.SUCCESS, message.transaction_id, attributes,
                                    key=key, fingerprint=True)

    def _error(self, message, code, reason, extra=(), key=None):
        attributes = [(codec.ERROR_CODE, codec.encode_error_code(code, reason))] + list(extra)
        return codec.encode_message(message.method, codec.ERROR, message.transaction_id, attributes,
                                    key=key, fingerprint=True)

    def _authenticate(self, message):
        """(key, None) for a request with valid credentials, else (None, the error response)."""
        challenge = [(codec.REALM, self.realm.encode()), (codec.NONCE, self.nonce)]
        username = message.get(codec.USERNAME)
        if username is None or message.find(codec.MESSAGE_INTEGRITY) is None:
            return None, self._error(message, 401, "Unauthorized", challenge)
        user = username.decode("utf-8")
        password = self.users.get(user)
        key = codec.long_term_key(user, self.realm, password) if password is not None else None
        if key is None or not codec.verify_integrity(message, key):
            return None, self._error(message, self.reject_code, "Wrong Credentials"
                                     if self.reject_code == 441 else "Unauthorized", challenge)
        if self.stale_nonce_once:
            self.stale_nonce_once = False
            self.nonce = b"nonce-2"
            challenge = [(codec.REALM, self.realm.encode()), (codec.NONCE, self.nonce)]
            return None, self._error(message, 438, "Stale Nonce", challenge)
        if message.get(codec.NONCE) != self.nonce:
            return None, self._error(message, 438, "Stale Nonce", challenge)
        return key, None

    def _allocate(self, message, client, key):
        relayed = ("127.0.0.1", 50000 + len(self.allocations))
        self.allocations[client] = {"relayed": relayed, "permissions": set(), "channels": {}, "freed": False,
                                    "relayed_count": 0}
        tid = message.transaction_id
        return self._success(message, [(codec.XOR_RELAYED_ADDRESS, codec.encode_xor_address(*relayed, tid)),
                                       (codec.LIFETIME, codec.encode_lifetime(600))] + self._mapped(client, tid),
                             key)

    def _refresh(self, message, client, key):
        allocation = self.allocations.get(client)
        if allocation is None:
            return self._error(message, 437, "Allocation Mismatch", key=key)
        if codec.decode_uint32(message.get(codec.LIFETIME), "LIFETIME") == 0:
            allocation["freed"] = True
        return self._success(message, [(codec.LIFETIME, message.get(codec.LIFETIME))], key)

    def _peer(self, message):
        return codec.decode_xor_address(message.get(codec.XOR_PEER_ADDRESS), message.transaction_id)

    def _permission(self, message, client, key):
        if self.forbid_peer:
            return self._error(message, 403, "Forbidden", key=key)
        self.allocations[client]["permissions"].add(self._peer(message)[0])
        return self._success(message, [], key)

    def _channel_bind(self, message, client, key):
        channel = struct.unpack("!H", message.get(codec.CHANNEL_NUMBER)[:2])[0]
        allocation = self.allocations[client]
        peer = self._peer(message)
        allocation["channels"][channel] = peer
        allocation["permissions"].add(peer[0])
        return self._success(message, [], key)

    def _loops_back(self, allocation, peer):
        """A packet to the own relayed address comes back when the permission allows it (minus drops)."""
        if peer != allocation["relayed"] or peer[0] not in allocation["permissions"]:
            return False
        allocation["relayed_count"] += 1
        return not (self.relay_drop_every and allocation["relayed_count"] % self.relay_drop_every == 0)

    def _send_indication(self, message, client, stream):
        allocation = self.allocations.get(client)
        peer = self._peer(message)
        if allocation is None or not self._loops_back(allocation, peer):
            return []
        data = message.get(codec.DATA_ATTRIBUTE)
        for channel, bound in allocation["channels"].items():
            if bound == peer:
                return [codec.encode_channel_data(channel, data, pad=stream)]
        transaction_id = os.urandom(12)
        return [codec.encode_message(codec.DATA, codec.INDICATION, transaction_id,
                                     [(codec.XOR_PEER_ADDRESS, codec.encode_xor_address(*peer, transaction_id)),
                                      (codec.DATA_ATTRIBUTE, data)])]

    def _channel_data(self, data, client, stream):
        channel, payload = codec.decode_channel_data(data)
        allocation = self.allocations.get(client)
        if allocation is None or channel not in allocation["channels"]:
            return []
        if not self._loops_back(allocation, allocation["channels"][channel]):
            return []
        return [codec.encode_channel_data(channel, payload, pad=stream)]
