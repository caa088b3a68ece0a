# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""STUN and TURN probes: a Binding, a quality train of Bindings, and a TURN Allocate.

The three ``probe_*`` functions are the public API. Each takes a
:class:`~.transport.Target` and returns a result dict with ``findings`` and
``passed`` (see :mod:`.findings`); a network failure is a result
(``reachable: false``, ``error: timeout``), never an exception. Only bad
arguments raise: :class:`FieldError`, from the ``validate_*`` functions the
probes call first. The functions share no state, so a caller may run several
at once in threads.
"""

from __future__ import annotations

import os
import struct
import time

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError, ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.common.quality import summarize_train
from ansible_collections.dlegate.rtc.plugins.module_utils.stun import codec
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.findings import (
    allocate_findings,
    binding_findings,
    with_findings,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.transport import (
    MALFORMED_RESPONSE,
    TIMEOUT,
    TRANSPORTS,
    Deadline,
    ProbeError,
    open_transport,
)

RTO = 0.5  # seconds, RFC 8489 section 6.2.1
MAX_TRANSMISSIONS = 7  # Rc
MAX_AUTH_ATTEMPTS = 4  # the 401 challenge, then at most a few 438 stale nonces
MAX_NONCE_OR_REALM = 763  # bytes, RFC 8489 sections 14.9 and 14.10
CHANNEL = 0x4000
# 12-byte RTP header + 160 bytes of G.711 audio: one 20 ms packet of a voice call
RELAY_PAYLOAD_SIZE = 172
RELAY_MAGIC = b"DLRT"
RELAY_MODES = ("send", "channel")
FREE_RESERVE = 1.0  # seconds of the deadline kept for freeing an allocation
MAX_COUNT = 10000
MAX_INTERVAL_MS = 10000
MAX_WAIT_MS = 60000
BINDING_FAILED = "binding_failed"
ALLOCATE_FAILED = "allocate_failed"


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------

def validate_target(target, prefix=""):
    """FieldError unless the target can be probed; ``prefix`` goes before field names (``checks[0].``)."""
    if not target.host or any(c.isspace() for c in target.host):
        raise FieldError(prefix + "server", "a host name or an IP address without spaces is required")
    if target.transport not in TRANSPORTS:
        raise FieldError(prefix + "transport", "must be one of %s" % ", ".join(TRANSPORTS))
    if not 1 <= target.port <= 65535:
        raise FieldError(prefix + "port", "must be between 1 and 65535, got %d" % target.port)
    if target.ca_path is not None and not os.path.isfile(target.ca_path):
        raise FieldError(prefix + "ca_path", "no CA bundle file at %s" % target.ca_path)


def validate_timeout(timeout, field="timeout"):
    if not 0 < timeout <= 3600:
        raise FieldError(field, "must be more than 0 and at most 3600 seconds, got %s" % timeout)


def validate_wait(wait_ms, field="wait_ms"):
    if not 0 <= wait_ms <= MAX_WAIT_MS:
        raise FieldError(field, "must be between 0 and %d ms, got %d" % (MAX_WAIT_MS, wait_ms))


def validate_train(count, interval_ms, timeout, prefix="", timeout_field="timeout"):
    """A train must fit its deadline: count * interval_ms shorter than the timeout."""
    if not 1 <= count <= MAX_COUNT:
        raise FieldError(prefix + "count", "must be between 1 and %d, got %d" % (MAX_COUNT, count))
    if not 1 <= interval_ms <= MAX_INTERVAL_MS:
        raise FieldError(prefix + "interval_ms", "must be between 1 and %d, got %d" % (MAX_INTERVAL_MS, interval_ms))
    duration = count * interval_ms / 1000.0
    if duration >= timeout:
        raise FieldError(timeout_field, "must exceed the train's duration %scount * %sinterval_ms = %.3f s, got %s"
                         % (prefix, prefix, duration, timeout))


class Credentials(object):
    """TURN long-term credentials. The password never appears in repr, results or errors."""

    __slots__ = ("username", "password")

    def __init__(self, username, password):
        self.username = username
        self.password = password

    @classmethod
    def from_rest_secret(cls, secret, user, ttl, now=None):
        """coturn's REST credentials, valid for ``ttl`` seconds from ``now`` (Unix time)."""
        expires = int(time.time() if now is None else now) + ttl
        return cls(*codec.rest_credentials(secret, user, expires))

    def __repr__(self):
        return "Credentials(username=<hidden>, password=<hidden>)"


def validate_credentials(credentials, prefix=""):
    if not credentials.username:
        raise FieldError(prefix + "username", "a TURN user name is required")
    if not credentials.password:
        raise FieldError(prefix + "password", "a TURN password (or a REST secret) is required")
    try:
        codec.saslprep(credentials.password)
    except ValueError as exc:
        raise FieldError(prefix + "password", "not a valid STUN password: %s" % exc)


# ---------------------------------------------------------------------------
# transactions
# ---------------------------------------------------------------------------

def new_transaction_id():
    return os.urandom(codec.TRANSACTION_ID_LENGTH)


class Discards(object):
    """What arrived and was not an answer, counted to tell a hostile server from a silent one."""

    def __init__(self):
        self.count = 0
        self.first = None

    def add(self, reason):
        self.count += 1
        if self.first is None:
            self.first = reason

    def failure(self, what, seconds):
        if self.count:
            return ProbeError(MALFORMED_RESPONSE, "no valid answer to %s; %d answer(s) discarded, first: %s"
                              % (what, self.count, self.first))
        return ProbeError(TIMEOUT, "no answer to %s within %.1f s" % (what, seconds))


def no_answer(discards, transport, what, seconds):
    """The ProbeError when the deadline passed without a valid answer."""
    if transport.partial_frame:
        discards.add("a frame cut short: the rest never came")
    return discards.failure(what, seconds)


def read_message(frame, discards):
    """The STUN message in a frame, or None (noted in ``discards``) when it is none."""
    try:
        return codec.decode_message(frame)
    except ParseError as exc:
        discards.add(str(exc))
        return None


def transmission_schedule(start, rto, deadline_at):
    """Send times of a request over UDP: 0, RTO, 3 RTO, 7 RTO... (RFC 8489 section 6.2.1), within the deadline."""
    times, offset, wait = [], 0.0, rto
    for _transmission in range(MAX_TRANSMISSIONS):
        if start + offset >= deadline_at:
            break
        times.append(start + offset)
        offset += wait
        wait *= 2
    return times


def transact(transport, request, transaction_id, deadline, what, key=None, on_other=None, rto=RTO):
    """Send a request and wait for its response; (response, rtt_ms, transmissions).

    UDP retransmits on the RFC 8489 schedule; a stream sends once. Relay
    traffic (ChannelData, indications) goes to ``on_other(frame, received_at)``
    when given; anything else that is not the response is discarded, as is a
    response whose MESSAGE-INTEGRITY does not check under ``key``. ProbeError
    when no valid response came in time."""
    discards = Discards()
    start = time.monotonic()
    schedule = [start] if transport.stream else transmission_schedule(start, rto, deadline.at)
    sent_at, transmissions = start, 0
    while True:
        if transmissions < len(schedule) and time.monotonic() >= schedule[transmissions]:
            sent_at = time.monotonic()
            transport.send(request, deadline)
            transmissions += 1
        until = schedule[transmissions] if transmissions < len(schedule) else deadline.at
        frame = transport.receive(min(until, deadline.at))
        if frame is None:
            if deadline.expired():
                raise no_answer(discards, transport, what, time.monotonic() - start)
            continue
        received_at = time.monotonic()
        if on_other is not None and codec.is_channel_data(frame):
            on_other(frame, received_at)
            continue
        message = read_message(frame, discards)
        if message is None:
            continue
        if message.message_class == codec.INDICATION:
            if on_other is not None:
                on_other(frame, received_at)
            continue
        if message.transaction_id != transaction_id or message.message_class == codec.REQUEST:
            discards.add("a message whose transaction id is not the request's")
            continue
        if key is not None and message.find(codec.MESSAGE_INTEGRITY) is not None \
                and not codec.verify_integrity(message, key):
            discards.add("a response whose MESSAGE-INTEGRITY does not match")
            continue
        return message, (received_at - sent_at) * 1000.0, transmissions


# ---------------------------------------------------------------------------
# STUN Binding
# ---------------------------------------------------------------------------

def binding_request(transaction_id):
    return codec.encode_message(codec.BINDING, codec.REQUEST, transaction_id, fingerprint=True)


def mapped_fields(message):
    """mapped_address and mapped_port of a Binding or Allocate success (ParseError when absent)."""
    mapped = codec.mapped_address(message)
    if mapped is None:
        raise ParseError("the success response carries no (XOR-)MAPPED-ADDRESS")
    return {"mapped_address": mapped[0], "mapped_port": mapped[1]}


def base_result(target):
    return {"server": target.host, "port": target.port, "transport": target.transport,
            "server_address": None, "reachable": False,
            "error": None, "error_detail": None, "error_code": None, "error_reason": None}


def failed(result, error):
    result.update(error=error.code, error_detail=error.detail)
    return result


def probe_binding(target, timeout=5.0):
    """One STUN Binding, retransmitted over UDP: reachable, mapped_address, mapped_port, rtt_ms."""
    validate_target(target)
    validate_timeout(timeout)
    deadline = Deadline(timeout)
    result = dict(base_result(target), mapped_address=None, mapped_port=None, rtt_ms=summarize_train([])["rtt_ms"],
                  transmissions=0)
    transport = None
    try:
        transport = open_transport(target, deadline)
        result["server_address"] = transport.server_address
        transaction_id = new_transaction_id()
        response, rtt_ms, transmissions = transact(transport, binding_request(transaction_id), transaction_id,
                                                   deadline, "the Binding request")
        result.update(reachable=True, transmissions=transmissions)
        result.update(binding_outcome(response))
        result["rtt_ms"] = summarize_train([(0.0, rtt_ms)])["rtt_ms"]
    except ProbeError as exc:
        failed(result, exc)
    finally:
        if transport is not None:
            transport.close()
    return with_findings(result, binding_findings(result))


def binding_outcome(response):
    """The fields a Binding response gives: the mapped address, or the error the server returned."""
    try:
        if response.message_class == codec.ERROR:
            code, reason = codec.error_of(response)
            return {"error": BINDING_FAILED, "error_code": code, "error_reason": reason}
        return mapped_fields(response)
    except ParseError as exc:
        return {"error": MALFORMED_RESPONSE, "error_detail": str(exc)}


def probe_binding_train(target, count, interval_ms=20, timeout=10.0, wait_ms=1000):
    """``count`` Bindings, one every ``interval_ms``, none retransmitted: sent, received, loss_pct,
    rtt_ms (min/avg/max/p95) and jitter_ms, plus the mapped address of the first answer.

    After the last request the train waits ``wait_ms`` (within the deadline) for
    late answers; later ones count as lost."""
    validate_target(target)
    validate_timeout(timeout)
    validate_train(count, interval_ms, timeout)
    validate_wait(wait_ms)
    deadline = Deadline(timeout)
    result = dict(base_result(target), mapped_address=None, mapped_port=None, **summarize_train([]))
    transport = None
    try:
        transport = open_transport(target, deadline)
        result["server_address"] = transport.server_address
        train = BindingTrain(count)
        run_train(transport, train, interval_ms, wait_ms, deadline)
        result.update(summarize_train(train.samples))
        result["reachable"] = train.first_response is not None
        if train.first_response is not None:
            result.update(binding_outcome(train.first_response))
        else:
            failed(result, no_answer(train.discards, transport, "%d Binding requests" % count, timeout))
    except ProbeError as exc:
        failed(result, exc)
    finally:
        if transport is not None:
            transport.close()
    return with_findings(result, binding_findings(result))


class BindingTrain(object):
    """A train of Binding requests: what to send next, and which answer belongs to which request."""

    def __init__(self, count):
        self.count = count
        self.samples = []
        self.pending = {}
        self.discards = Discards()
        self.first_response = None

    def next_frame(self, index):
        transaction_id = new_transaction_id()
        self.pending[transaction_id] = index
        return binding_request(transaction_id)

    def sent(self, index, at):
        self.samples.append((at * 1000.0, None))

    def received(self, frame, at):
        message = read_message(frame, self.discards)
        if message is None:
            return
        index = self.pending.pop(message.transaction_id, None)
        if index is None or message.message_class == codec.REQUEST:
            self.discards.add("a message whose transaction id is none of the train's")
            return
        self.samples[index] = (self.samples[index][0], at * 1000.0)
        if self.first_response is None:
            self.first_response = message

    def complete(self):
        return len(self.samples) == self.count and not self.pending


def run_train(transport, train, interval_ms, wait_ms, deadline):
    """Send the train's frames on schedule while receiving; stop when all came back, or ``wait_ms``
    after the last one was sent, or at the deadline."""
    start = time.monotonic()
    interval = interval_ms / 1000.0
    sent = 0
    last_sent_at = start
    while not deadline.expired():
        now = time.monotonic()
        if sent < train.count and now >= start + sent * interval:
            frame = train.next_frame(sent)
            last_sent_at = time.monotonic()
            transport.send(frame, deadline)
            train.sent(sent, last_sent_at)
            sent += 1
            continue
        if sent == train.count and (train.complete() or now >= last_sent_at + wait_ms / 1000.0):
            return
        until = start + sent * interval if sent < train.count else last_sent_at + wait_ms / 1000.0
        frame = transport.receive(min(until, deadline.at))
        if frame is not None:
            train.received(frame, time.monotonic())


# ---------------------------------------------------------------------------
# TURN
# ---------------------------------------------------------------------------

class TurnError(Exception):
    """The TURN server answered a request with an error response."""

    def __init__(self, what, code, reason):
        super().__init__("%s: %d %s" % (what, code, reason))
        self.what = what
        self.code = code
        self.reason = reason


class TurnClient(object):
    """One TURN client on one transport, with the long-term credential mechanism.

    The first request goes without credentials; the server's 401 gives REALM
    and NONCE, and the request is repeated with USERNAME, REALM, NONCE and
    MESSAGE-INTEGRITY. A 438 (stale nonce) brings a new NONCE and another
    try. A 401 after credentials were sent, and every other error, is a
    TurnError. Requests take a function of the transaction id that returns
    their attributes, because XOR addresses depend on it."""

    def __init__(self, transport, credentials, deadline):
        self.transport = transport
        self.credentials = credentials
        self.deadline = deadline
        self.realm = None
        self.nonce = None
        self.key = None
        self.on_other = None
        self.answered = False
        self.rtt_ms = []

    def request(self, method, attributes_for, what):
        """The success response to the request, or TurnError."""
        for _attempt in range(MAX_AUTH_ATTEMPTS):
            transaction_id = new_transaction_id()
            attributes = attributes_for(transaction_id) + self._credential_attributes()
            frame = codec.encode_message(method, codec.REQUEST, transaction_id, attributes,
                                         key=self.key, fingerprint=True)
            response, rtt_ms, _transmissions = transact(self.transport, frame, transaction_id, self.deadline,
                                                        what, key=self.key, on_other=self.on_other)
            self.answered = True
            self.rtt_ms.append(rtt_ms)
            if response.message_class == codec.SUCCESS:
                return response
            code, reason = codec.error_of(response)
            if not self._take_challenge(code, response):
                raise TurnError(what, code, reason)
        raise TurnError(what, code, reason)

    def _credential_attributes(self):
        if self.key is None:
            return []
        return [(codec.USERNAME, self.credentials.username.encode("utf-8")),
                (codec.REALM, self.realm), (codec.NONCE, self.nonce)]

    def _take_challenge(self, code, response):
        """Take REALM and NONCE from a first 401, a new NONCE from a 438; False when the error stands."""
        if code == 401 and self.key is None:
            self.realm = challenge_value(response, codec.REALM, "REALM")
            self.nonce = challenge_value(response, codec.NONCE, "NONCE")
            self.key = codec.long_term_key(self.credentials.username, utf8(self.realm, "REALM"),
                                           self.credentials.password)
            return True
        if code == 438 and self.key is not None:
            self.nonce = challenge_value(response, codec.NONCE, "NONCE")
            return True
        return False

    def allocate(self):
        """(relayed, mapped, lifetime) of a new UDP relay allocation; mapped may be None."""
        response = self.request(codec.ALLOCATE, lambda tid: [(codec.REQUESTED_TRANSPORT,
                                                              codec.encode_requested_transport())],
                                "the Allocate request")
        relayed = response.get(codec.XOR_RELAYED_ADDRESS)
        lifetime = response.get(codec.LIFETIME)
        if relayed is None or lifetime is None:
            raise ParseError("the Allocate success lacks XOR-RELAYED-ADDRESS or LIFETIME")
        return (codec.decode_xor_address(relayed, response.transaction_id), codec.mapped_address(response),
                codec.decode_uint32(lifetime, "LIFETIME"))

    def refresh(self, lifetime):
        self.request(codec.REFRESH, lambda tid: [(codec.LIFETIME, codec.encode_lifetime(lifetime))],
                     "the Refresh request")

    def create_permission(self, peer):
        self.request(codec.CREATE_PERMISSION, lambda tid: [(codec.XOR_PEER_ADDRESS, xor_peer(peer, tid))],
                     "the CreatePermission request")

    def channel_bind(self, channel, peer):
        self.request(codec.CHANNEL_BIND, lambda tid: [(codec.CHANNEL_NUMBER, codec.encode_channel_number(channel)),
                                                      (codec.XOR_PEER_ADDRESS, xor_peer(peer, tid))],
                     "the ChannelBind request")


def xor_peer(peer, transaction_id):
    return codec.encode_xor_address(peer[0], peer[1], transaction_id)


def challenge_value(response, attr_type, name):
    value = response.get(attr_type)
    if not value or len(value) > MAX_NONCE_OR_REALM:
        raise ParseError("the challenge carries no usable %s" % name)
    return value


def utf8(value, name):
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError("the %s is not UTF-8" % name)


class RelayTrain(object):
    """Media-like packets to our own relayed address: out through the TURN server, back as Data
    indications or ChannelData. Each carries a random token and its sequence number."""

    def __init__(self, count, peer, mode, stream):
        self.count = count
        self.peer = peer
        self.mode = mode
        self.stream = stream
        self.token = os.urandom(8)
        self.samples = []
        self.discards = Discards()

    def payload(self, index):
        head = RELAY_MAGIC + self.token + struct.pack("!I", index)
        return head + b"\x00" * (RELAY_PAYLOAD_SIZE - len(head))

    def next_frame(self, index):
        if self.mode == "channel":
            return codec.encode_channel_data(CHANNEL, self.payload(index), pad=self.stream)
        transaction_id = new_transaction_id()
        return codec.encode_message(codec.SEND, codec.INDICATION, transaction_id,
                                    [(codec.XOR_PEER_ADDRESS, xor_peer(self.peer, transaction_id)),
                                     (codec.DATA_ATTRIBUTE, self.payload(index))])

    def sent(self, index, at):
        self.samples.append((at * 1000.0, None))

    def received(self, frame, at):
        index = self.sequence_of(relayed_payload(frame, self.discards))
        if index is None or self.samples[index][1] is not None:
            return
        self.samples[index] = (self.samples[index][0], at * 1000.0)

    def sequence_of(self, payload):
        head = RELAY_MAGIC + self.token
        if payload is None or len(payload) < len(head) + 4 or not payload.startswith(head):
            return None
        index = struct.unpack("!I", payload[len(head):len(head) + 4])[0]
        return index if index < len(self.samples) else None

    def complete(self):
        return len(self.samples) == self.count and all(sample[1] is not None for sample in self.samples)


def relayed_payload(frame, discards):
    """The application data in a ChannelData frame or a Data indication, else None."""
    try:
        if codec.is_channel_data(frame):
            return codec.decode_channel_data(frame)[1]
        message = codec.decode_message(frame)
    except ParseError as exc:
        discards.add(str(exc))
        return None
    if message.method == codec.DATA and message.message_class == codec.INDICATION:
        return message.get(codec.DATA_ATTRIBUTE)
    return None


def validate_relay(count, interval_ms, mode, timeout):
    if count == 0:
        return
    if mode not in RELAY_MODES:
        raise FieldError("relay_mode", "must be one of %s" % ", ".join(RELAY_MODES))
    validate_train(count, interval_ms, float("inf"), prefix="relay_")
    duration = count * interval_ms / 1000.0
    if duration + FREE_RESERVE >= timeout:
        raise FieldError("timeout", "must exceed relay_count * relay_interval_ms = %.3f s plus %.1f s to free the "
                         "allocation, got %s" % (duration, FREE_RESERVE, timeout))


def probe_allocate(target, credentials, timeout=10.0, relay_count=0, relay_interval_ms=20, relay_mode="send",
                   wait_ms=1000):
    """A TURN Allocate (UDP relay), an optional relay train, then the allocation freed (Refresh LIFETIME 0).

    The result holds allocated, relayed_address/_port, mapped_address/_port,
    lifetime and realm; on an error response error_code and error_reason.
    With ``relay_count`` packets, ``relay`` holds the relay path's sent,
    received, loss_pct, rtt_ms and jitter_ms. The allocation is freed with
    the last second of the deadline kept for it."""
    validate_target(target)
    validate_timeout(timeout)
    validate_credentials(credentials)
    validate_relay(relay_count, relay_interval_ms, relay_mode, timeout)
    validate_wait(wait_ms)
    deadline = Deadline(timeout)
    result = dict(base_result(target), allocated=False, relayed_address=None, relayed_port=None,
                  mapped_address=None, mapped_port=None, lifetime=None, realm=None, freed=False,
                  rtt_ms=summarize_train([])["rtt_ms"], relay=None)
    transport = None
    client = None
    try:
        transport = open_transport(target, deadline)
        result["server_address"] = transport.server_address
        client = TurnClient(transport, credentials, deadline.earlier(FREE_RESERVE))
        allocate_and_relay(client, result, relay_count, relay_interval_ms, relay_mode, wait_ms)
    except ProbeError as exc:
        failed(result, exc)
    finally:
        if client is not None and result["allocated"]:
            client.deadline = deadline
            result["freed"] = free_allocation(client)
        if client is not None:
            result["reachable"] = client.answered
            result["realm"] = utf8_or_none(client.realm)
            result["rtt_ms"] = summarize_train([(0.0, rtt) for rtt in client.rtt_ms])["rtt_ms"]
        if transport is not None:
            transport.close()
    return with_findings(result, allocate_findings(result))


def allocate_and_relay(client, result, relay_count, relay_interval_ms, relay_mode, wait_ms):
    try:
        relayed, mapped, lifetime = client.allocate()
    except TurnError as exc:
        result.update(error=ALLOCATE_FAILED, error_code=exc.code, error_reason=exc.reason,
                      error_detail="%s was answered %d %s" % (exc.what, exc.code, exc.reason))
        return
    except ParseError as exc:
        result.update(error=MALFORMED_RESPONSE, error_detail=str(exc))
        return
    result.update(allocated=True, relayed_address=relayed[0], relayed_port=relayed[1], lifetime=lifetime)
    if mapped is not None:
        result.update(mapped_address=mapped[0], mapped_port=mapped[1])
    if relay_count:
        result["relay"] = relay_quality(client, relayed, relay_count, relay_interval_ms, relay_mode, wait_ms)


def relay_quality(client, relayed, count, interval_ms, mode, wait_ms):
    """Permission (and channel) for our own relayed address, then the train through the relay."""
    relay = dict(mode=mode, peer_address=relayed[0], peer_port=relayed[1], error=None, error_detail=None,
                 error_code=None, error_reason=None, **summarize_train([]))
    train = RelayTrain(count, relayed, mode, client.transport.stream)
    client.on_other = train.received
    try:
        client.create_permission(relayed)
        if mode == "channel":
            client.transport.channel_data = True
            client.channel_bind(CHANNEL, relayed)
        run_train(client.transport, train, interval_ms, wait_ms, client.deadline)
        relay.update(summarize_train(train.samples))
    except TurnError as exc:
        relay.update(error="relay_setup_failed", error_code=exc.code, error_reason=exc.reason,
                     error_detail="%s was answered %d %s" % (exc.what, exc.code, exc.reason))
    except ParseError as exc:
        relay.update(error=MALFORMED_RESPONSE, error_detail=str(exc))
    except ProbeError as exc:
        relay.update(error=exc.code, error_detail=exc.detail, **summarize_train(train.samples))
    finally:
        client.on_other = None
    return relay


def free_allocation(client):
    """Refresh with LIFETIME 0; True when the server confirmed it."""
    try:
        client.refresh(0)
        return True
    except (TurnError, ParseError, ProbeError):
        return False


def utf8_or_none(value):
    return value.decode("utf-8", "replace") if value is not None else None
