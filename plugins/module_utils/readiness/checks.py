# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The readiness checks: arguments validated up front, each check a call of the collection's own probe.

:func:`plan_checks` turns the module's parameters into :class:`Check` objects.
Every argument is validated before any check starts, with the probes' own
validators, so that a bad value fails the module with its field
(``turn.password``, ``quality.count``) instead of one check's thread. A check's
``run`` is a call without arguments of a probe function (``run_dns_probe``,
``run_signaling_probe``, ``probe_binding``, ``probe_binding_train``,
``probe_allocate``, ``probe_ephemeral``): nothing here opens a socket.
"""

from __future__ import annotations

import functools
import ipaddress

from ansible_collections.dlegate.rtc.plugins.module_utils.common.dns import make_resolver
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.common.validation import integer, one_of
from ansible_collections.dlegate.rtc.plugins.module_utils.dns_probe import normalize_probe, run_dns_probe
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.argspec import CHECKS, with_defaults
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.ephemeral import (
    normalize_ephemeral,
    probe_ephemeral,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.signaling.probe import (
    normalize_signaling,
    run_signaling_probe,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.client import (
    MAX_COUNT,
    Credentials,
    probe_allocate,
    probe_binding,
    probe_binding_train,
    validate_credentials,
    validate_relay,
    validate_timeout,
    validate_target,
    validate_train,
    validate_wait,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.transport import Target

TURN_CHECKS = {"turn_udp": "udp", "turn_tcp": "tcp", "turn_tls": "tls"}
# The host's stub resolver asks again when an answer is lost (glibc: 2 attempts); so does the DNS check,
# within its timeout, so that one lost datagram is no finding.
DNS_TRIES = 3
MIN_DNS_TRY = 0.5
MIN_REST_TTL = 60
MAX_REST_TTL = 31536000


class Check(object):
    """One planned check: its ``name`` (of CHECKS), its ``kind`` (the section it reads), the DNS names
    it reaches (``targets``) and ``run``, the probe call that returns its result."""

    __slots__ = ("name", "kind", "targets", "run")

    def __init__(self, name, kind, targets, run):
        self.name = name
        self.kind = kind
        self.targets = targets
        self.run = run

    def __repr__(self):
        return "Check(%s)" % self.name


def prefixed(prefix, function, *args, **kwargs):
    """Call a validator whose FieldError names a field of its own; name it inside ``prefix`` instead."""
    try:
        return function(*args, **kwargs)
    except FieldError as exc:
        raise FieldError(prefix + exc.field, exc.message)


def target_name(host):
    """A host as the DNS check asks for it, or None for an IP address (nothing to resolve)."""
    text = host.strip().rstrip(".").lower()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return text
    return None


def names_of(*hosts):
    names = []
    for host in hosts:
        name = target_name(host) if host else None
        if name and name not in names:
            names.append(name)
    return names


def retrying_resolver(nameservers, timeout):
    """The DNS core's resolver, asking again within ``timeout`` like the host's own stub resolver."""
    resolver = make_resolver(nameservers, timeout)
    resolver.timeout = max(timeout / DNS_TRIES, MIN_DNS_TRY)
    return resolver


# ---------------------------------------------------------------------------
# servers: each check's own setting, else the one it falls back to
# ---------------------------------------------------------------------------

def turn_server(params):
    if not params["turn"]["server"]:
        raise FieldError("turn.server", "give the TURN server (a host name or an IP address)")
    return params["turn"]["server"]


def stun_server(params, field="stun.server"):
    server = params["stun"]["server"] or params["turn"]["server"]
    if not server:
        raise FieldError(field, "give the STUN server, or turn.server to use the TURN server for STUN")
    return server


def quality_server(params):
    return params["quality"]["server"] or stun_server(params, "quality.server")


def media_servers(params):
    return params["ephemeral"]["servers"] or [stun_server(params, "ephemeral.servers")]


# ---------------------------------------------------------------------------
# one builder per check
# ---------------------------------------------------------------------------

def signaling_check(name, params):
    section = params["signaling"]
    prefixed("signaling.", normalize_signaling, **section)
    targets = [] if section["address"] else names_of(section["host"])
    return Check(name, "signaling", targets, functools.partial(run_signaling_probe, **section))


def port_of(section, option, prefix):
    return integer(section[option], prefix + option, 1, 65535)


def stun_check(name, params):
    section = params["stun"]
    target = Target(stun_server(params), port_of(section, "port", "stun."), "udp")
    validate_target(target, "stun.")
    validate_timeout(section["timeout"], "stun.timeout")
    return Check(name, "stun", names_of(target.host),
                 functools.partial(probe_binding, target, section["timeout"]))


def turn_credentials(section):
    """Long-term credentials, or coturn's REST credentials derived from the shared secret."""
    if section["password"] and section["secret"]:
        raise FieldError("turn.secret", "give turn.password or turn.secret, not both")
    if section["secret"]:
        integer(section["rest_ttl"], "turn.rest_ttl", MIN_REST_TTL, MAX_REST_TTL)
        credentials = Credentials.from_rest_secret(section["secret"], section["username"] or "", section["rest_ttl"])
    else:
        credentials = Credentials(section["username"], section["password"])
    validate_credentials(credentials, "turn.")
    return credentials


def turn_check(name, params):
    section = params["turn"]
    transport = TURN_CHECKS[name]
    port = port_of(section, transport + "_port", "turn.")
    target = Target(turn_server(params), port, transport, section["server_name"], section["ca_path"],
                    section["validate_certs"])
    validate_target(target, "turn.")
    validate_timeout(section["timeout"], "turn.timeout")
    credentials = turn_credentials(section)
    integer(section["relay_count"], "turn.relay_count", 0, MAX_COUNT)
    prefixed("turn.", validate_relay, section["relay_count"], section["relay_interval_ms"], "send",
             section["timeout"])
    return Check(name, "turn", names_of(target.host),
                 functools.partial(probe_allocate, target, credentials, section["timeout"], section["relay_count"],
                                   section["relay_interval_ms"], "send"))


def ephemeral_check(name, params):
    section = params["ephemeral"]
    probe = normalize_ephemeral(media_servers(params), section["port_range"], section["sample_range"],
                                section["samples"], section["timeout"], section["attempts"], prefix="ephemeral.")
    return Check(name, "ephemeral", names_of(*probe["servers"]),
                 functools.partial(probe_ephemeral, probe["servers"], probe["ports"], probe["port_range"],
                                   probe["timeout"], probe["attempts"]))


def quality_check(name, params):
    section = params["quality"]
    target = Target(quality_server(params), port_of(section, "port", "quality."), "udp")
    validate_target(target, "quality.")
    validate_timeout(section["timeout"], "quality.timeout")
    validate_train(section["count"], section["interval_ms"], section["timeout"], prefix="quality.",
                   timeout_field="quality.timeout")
    validate_wait(section["wait_ms"], "quality.wait_ms")
    return Check(name, "quality", names_of(target.host),
                 functools.partial(probe_binding_train, target, section["count"], section["interval_ms"],
                                   section["timeout"], section["wait_ms"]))


def dns_check(name, params, others):
    """Resolves the names given and every name the other checks reach, so that a failing name explains them."""
    section = params["dns"]
    names = names_of(*(section["names"] + [target for check in others for target in check.targets]))
    if not names:
        raise FieldError("dns.names", "no name to resolve: give dns.names, or checks that reach servers by name")
    prefixed("dns.", normalize_probe, names, section["resolvers"], section["system_resolver"],
             timeout=section["timeout"], sinkhole_networks=section["sinkhole_networks"])
    return Check(name, "dns", names,
                 functools.partial(run_dns_probe, names, resolvers=section["resolvers"],
                                   system_resolver=section["system_resolver"], timeout=section["timeout"],
                                   sinkhole_networks=section["sinkhole_networks"],
                                   allow_special_use=section["allow_special_use"],
                                   resolver_factory=retrying_resolver))


BUILDERS = dict(signaling=signaling_check, stun=stun_check, ephemeral=ephemeral_check, quality=quality_check,
                **dict((name, turn_check) for name in TURN_CHECKS))


def plan_checks(params):
    """The checks ``params`` asks for, in the order of CHECKS, every argument validated: [Check].

    ``params`` is the module's parameters; missing values take the argument
    spec's defaults. Raises FieldError on bad input."""
    params = with_defaults(params)
    for index, name in enumerate(params["checks"]):
        one_of(name, "checks[%d]" % index, CHECKS)
    if not params["checks"]:
        raise FieldError("checks", "give at least one of %s" % ", ".join(CHECKS))
    wanted = [name for name in CHECKS if name in params["checks"]]
    checks = [BUILDERS[name](name, params) for name in wanted if name != "dns"]
    if "dns" in wanted:
        checks.insert(0, dns_check("dns", params, checks))
    return checks
