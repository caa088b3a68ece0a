# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNS for the whole collection: resolve service names, classify failures, judge answers.

Every module that turns names into addresses uses this core, so that a name
fails the same way everywhere. :func:`resolve_names` asks a resolver (the
host's, or given nameservers) for A and AAAA records and returns, per name::

    {"addresses": ["198.18.11.10"],             # A answers, then AAAA, no duplicates
     "cname_chain": ["edge.dlegate.test"],       # aliases followed, in order
     "latency_ms": 1.8,                          # the slowest of the name's queries
     "error": None,                              # or a kind of ERROR_KINDS when no address came back
     "error_text": None,                         # e.g. "A: NXDOMAIN; AAAA: NXDOMAIN"
     "queries": {"A": {...same keys for one record type...}, "AAAA": {...}}}

:func:`judge_answers` then splits the addresses into usable ones and ones that
cannot be a real service address (loopback, link-local, a sinkhole range...).

dnspython is the one third-party package the managed host needs; modules check
:data:`HAS_DNSPYTHON` and report ``missing_required_lib("dnspython")``.
The resolver is injectable (``resolver_factory``), so tests never query the
machine's resolver.
"""

from __future__ import annotations

import ipaddress
import re
import time
import traceback

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError, ParseError

try:
    import dns.exception
    import dns.rdatatype
    import dns.resolver
    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()

ADDRESS_TYPES = ("A", "AAAA")
DEFAULT_PORT = 53

NXDOMAIN = "nxdomain"
SERVFAIL = "servfail"
REFUSED = "refused"
TIMEOUT = "timeout"
UNREACHABLE = "unreachable"
INVALID_NAME = "invalid_name"
OTHER_ERROR = "error"
NO_ANSWER = "no_answer"
# When no record type gave an address, the name's error is the first of these
# its queries saw: a definite answer from the resolver outranks a guess.
ERROR_KINDS = (NXDOMAIN, SERVFAIL, REFUSED, TIMEOUT, UNREACHABLE, INVALID_NAME, OTHER_ERROR, NO_ANSWER)

SPECIAL_USE_NETWORKS = tuple((ipaddress.ip_network(network), reason) for network, reason in (
    ("127.0.0.0/8", "loopback"),
    ("::1/128", "loopback"),
    ("0.0.0.0/8", "unspecified"),
    ("::/128", "unspecified"),
    ("169.254.0.0/16", "link-local"),
    ("fe80::/10", "link-local"),
    ("224.0.0.0/4", "multicast"),
    ("ff00::/8", "multicast"),
))

MAX_CNAME_CHAIN = 16
DNS_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
NAMESERVER_WITH_PORT = re.compile(r"^\[(?P<v6>[^\]]+)\]:(?P<v6port>\d+)$|^(?P<v4>[0-9.]+):(?P<v4port>\d+)$")


class ResolverUnavailable(Exception):
    """The resolver cannot be used at all (no configuration on the host, dnspython missing)."""


# ---------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------

def normalize_name(name, field):
    """A DNS name as the resolver is asked for it: lower case, IDNA, no final dot."""
    if not isinstance(name, str) or not name.strip():
        raise FieldError(field, "must be a DNS name such as signal.example.com")
    text = name.strip().rstrip(".")
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        raise FieldError(field, "%s is an IP address; give the DNS name the service uses" % text)
    try:
        text = text.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise FieldError(field, "%r is not a valid DNS name" % name)
    labels = text.split(".")
    if len(text) > 253 or not all(DNS_LABEL.match(label) for label in labels):
        raise FieldError(field, "%r is not a valid DNS name (labels of 1-63 letters, digits, '-' or '_')" % name)
    return text


def parse_nameserver(text, field):
    """``ADDRESS``, ``IPV4:PORT`` or ``[IPV6]:PORT`` -> (address, port)."""
    if not isinstance(text, str):
        raise FieldError(field, "must be an IP address, IPV4:PORT or [IPV6]:PORT")
    match = NAMESERVER_WITH_PORT.match(text.strip())
    if match:
        address = match.group("v6") or match.group("v4")
        port = int(match.group("v6port") or match.group("v4port"))
    else:
        address, port = text.strip(), DEFAULT_PORT
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        raise FieldError(field, "%r is not an IP address (IP address, IPV4:PORT or [IPV6]:PORT)" % text)
    if not 0 < port < 65536:
        raise FieldError(field, "port %d is out of range 1-65535" % port)
    return address, port


def parse_networks(networks, field="sinkhole_networks"):
    """CIDRs (strings or ipaddress networks) -> ipaddress networks; host bits are dropped."""
    parsed = []
    for index, network in enumerate(networks or ()):
        if isinstance(network, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            parsed.append(network)
            continue
        try:
            parsed.append(ipaddress.ip_network(str(network).strip(), strict=False))
        except ValueError:
            raise FieldError("%s[%d]" % (field, index), "%r is not an IPv4 or IPv6 network (CIDR)" % network)
    return parsed


# ---------------------------------------------------------------------------
# Judging addresses
# ---------------------------------------------------------------------------

def _ip(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ParseError("%r is not an IP address" % (address,))
    # ::ffff:127.0.0.1 reaches 127.0.0.1
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _builtin_reason(ip):
    for network, reason in SPECIAL_USE_NETWORKS:
        if ip.version == network.version and ip in network:
            return reason
    return None


def _sinkhole_reason(ip, networks):
    for network in networks:
        if ip.version == network.version and ip in network:
            return "sinkhole range %s" % network
    return None


def special_use_reason(address, extra_networks=()):
    """Why ``address`` cannot be a real service address, or None.

    Special use: loopback, unspecified, link-local, multicast; ``extra_networks``
    adds sinkhole ranges (CIDR strings or networks). Raises ParseError when
    ``address`` is not an IP address.
    """
    ip = _ip(address)
    return _builtin_reason(ip) or _sinkhole_reason(ip, parse_networks(extra_networks))


def judge_answers(resolution, extra_networks=(), allow_special=False):
    """Split each name's addresses into usable and rejected ones.

    ``resolution`` is what :func:`resolve_names` returns (only ``addresses`` is
    read). Addresses in ``extra_networks`` are always rejected; the built-in
    special-use ranges only when ``allow_special`` is false. Returns
    ``{name: {"usable": [...], "rejected": [{"address": ..., "reason": ...}]}}``.
    """
    networks = parse_networks(extra_networks)
    judged = {}
    for name, result in resolution.items():
        usable, rejected = [], []
        for address in result["addresses"]:
            ip = _ip(address)
            reason = _sinkhole_reason(ip, networks) or (None if allow_special else _builtin_reason(ip))
            if reason:
                rejected.append({"address": address, "reason": reason})
            else:
                usable.append(address)
        judged[name] = {"usable": usable, "rejected": rejected}
    return judged


# ---------------------------------------------------------------------------
# Resolving
# ---------------------------------------------------------------------------

def make_resolver(nameservers=(), timeout=5.0):
    """A dnspython resolver: the host's configuration, or only ``nameservers``.

    ``timeout`` bounds each query (all its retries included). Raises
    ResolverUnavailable when the host has no usable resolver configuration.
    """
    if not HAS_DNSPYTHON:
        raise ResolverUnavailable("dnspython is not installed")
    servers = [parse_nameserver(text, "nameservers[%d]" % index) for index, text in enumerate(nameservers)]
    try:
        resolver = dns.resolver.Resolver(configure=not servers)
    except dns.exception.DNSException as exc:
        raise ResolverUnavailable("cannot read the host's resolver configuration: %s" % exc)
    if servers:
        resolver.nameserver_ports = dict(servers)
        resolver.nameservers = [address for address, port in servers]
    resolver.timeout = resolver.lifetime = timeout
    return resolver


def resolve_names(names, nameservers=(), timeout=5.0, rdtypes=ADDRESS_TYPES, resolver_factory=None):
    """Resolve each name (A and AAAA by default, never through the search list).

    ``resolver_factory(nameservers, timeout)`` builds the resolver; the default
    is :func:`make_resolver`. The resolver only needs dnspython's
    ``resolve(name, rdtype, search=False)``. Raises ResolverUnavailable when no
    resolver can be built; every per-name failure is in the result instead.
    """
    unknown = [rdtype for rdtype in rdtypes if rdtype not in ADDRESS_TYPES]
    if unknown:
        raise FieldError("rdtypes", "only %s can be resolved, not %s" % (" and ".join(ADDRESS_TYPES), ", ".join(unknown)))
    resolver = (resolver_factory or make_resolver)(list(nameservers), timeout)
    return dict((name, resolve_name(resolver, name, rdtypes)) for name in names)


def resolve_name(resolver, name, rdtypes=ADDRESS_TYPES):
    """One name's result (the shape in the module docstring)."""
    queries = dict((rdtype, query(resolver, name, rdtype)) for rdtype in rdtypes)
    return combine_queries(queries)


def query(resolver, name, rdtype):
    """One record type of one name: addresses, CNAME chain, latency and a classified error."""
    start = time.monotonic()
    try:
        answer = resolver.resolve(name, rdtype, search=False)
    except Exception as exc:  # dnspython raises many kinds; each is classified, none escapes
        kind, text = classify_error(exc)
        return _query_result([], [], start, kind, text)
    addresses = [rdata.address for rdata in answer]
    chain = cname_chain(answer.qname.to_text(), _cname_targets(answer.response))
    return _query_result(addresses, chain, start, None, None)


def _query_result(addresses, chain, start, error, error_text):
    return {"addresses": addresses, "cname_chain": chain,
            "latency_ms": round((time.monotonic() - start) * 1000.0, 2),
            "error": error, "error_text": error_text}


def combine_queries(queries):
    """Merge the per-record-type results of one name."""
    addresses, chain = [], []
    for result in queries.values():
        addresses.extend(address for address in result["addresses"] if address not in addresses)
        chain = chain or result["cname_chain"]
    failed = dict((rdtype, result) for rdtype, result in queries.items() if result["error"])
    error = error_text = None
    if failed:
        error_text = "; ".join("%s: %s" % (rdtype, result["error_text"]) for rdtype, result in failed.items())
    if not addresses:
        kinds = set(result["error"] for result in queries.values())
        error = next((kind for kind in ERROR_KINDS if kind in kinds), NO_ANSWER)
        if kinds <= set([NO_ANSWER]):
            error_text = "no %s record" % " or ".join(queries)
    latencies = [result["latency_ms"] for result in queries.values()]
    return {"addresses": addresses, "cname_chain": chain, "latency_ms": max(latencies) if latencies else 0.0,
            "error": error, "error_text": error_text, "queries": queries}


def answers_and_errors(resolution):
    """(addresses by name, error text by name for names without any address): the shape nft_egress uses."""
    answers = dict((name, list(result["addresses"])) for name, result in resolution.items())
    errors = dict((name, result["error_text"]) for name, result in resolution.items() if not result["addresses"])
    return answers, errors


def cname_chain(qname, targets):
    """The aliases a query went through: ``targets`` maps an owner name to its CNAME target."""
    chain, seen, name = [], set(), _plain(qname)
    plain_targets = dict((_plain(owner), _plain(target)) for owner, target in targets.items())
    while name in plain_targets and name not in seen and len(chain) < MAX_CNAME_CHAIN:
        seen.add(name)
        name = plain_targets[name]
        chain.append(name)
    return chain


def _plain(name):
    return str(name).rstrip(".").lower()


def _cname_targets(response):
    targets = {}
    for rrset in getattr(response, "answer", None) or ():
        if rrset.rdtype == dns.rdatatype.CNAME and len(rrset):
            targets[rrset.name.to_text()] = next(iter(rrset)).target.to_text()
    return targets


# ---------------------------------------------------------------------------
# Classifying failures
# ---------------------------------------------------------------------------

def classify_error(exc):
    """A dnspython exception -> (kind of ERROR_KINDS, short text)."""
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return NXDOMAIN, "NXDOMAIN"
    if isinstance(exc, dns.resolver.NoAnswer):
        return NO_ANSWER, "no record"
    if isinstance(exc, dns.exception.Timeout):
        return TIMEOUT, "timed out"
    if isinstance(exc, dns.resolver.NoNameservers):
        return classify_server_errors(exc.kwargs.get("errors") or [])
    if isinstance(exc, (dns.exception.SyntaxError, UnicodeError, ValueError)):
        return INVALID_NAME, "invalid name: %s" % exc
    return OTHER_ERROR, "%s: %s" % (exc.__class__.__name__, exc)


def classify_server_errors(errors):
    """dnspython's per-server error list ``(server, tcp, port, error, response)`` -> (kind, text)."""
    seen = [(_server_text(entry), entry[3] if len(entry) > 3 else entry[-1]) for entry in errors]
    text = "; ".join("%s answered %s" % (server, _error_word(error)) for server, error in seen) or "no nameserver answered"
    words = [_error_word(error) for server, error in seen]
    if "SERVFAIL" in words:
        return SERVFAIL, text
    if "REFUSED" in words:
        return REFUSED, text
    if any(isinstance(error, dns.exception.Timeout) for server, error in seen):
        return TIMEOUT, text
    if any(isinstance(error, (OSError, EOFError)) for server, error in seen):
        return UNREACHABLE, text
    return OTHER_ERROR, text


def _server_text(entry):
    """``ADDRESS`` or ``ADDRESS:PORT``, the form parse_nameserver reads, whatever dnspython's version."""
    address = str(entry[0])
    if address.startswith("Do53:"):
        address = address[len("Do53:"):].rsplit("@", 1)[0]
    port = entry[2] if len(entry) > 3 and isinstance(entry[2], int) else DEFAULT_PORT
    if port == DEFAULT_PORT:
        return address
    return ("[%s]:%d" if ":" in address else "%s:%d") % (address, port)


def _error_word(error):
    if isinstance(error, str):
        return error
    return "%s %s" % (error.__class__.__name__, error) if str(error) else error.__class__.__name__
