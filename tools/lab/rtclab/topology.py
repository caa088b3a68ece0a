"""The plan of a lab: names, subnets, addresses and credentials, without side effects."""

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
import time

from .common import (CACHE, DOMAIN, ECHO_RANGE, ENDPOINT_BASE, GW_OFFSET, IPERF3_PORT, ISP_INTERNET_OFFSET,
                     ISP_WAN_OFFSET, LABEL, MAX_ECHO_PORTS, MAX_ENDPOINTS, SERVICE_OFFSETS, TURN_REST_OFFSET,
                     TURN_USERS, LabError)


def check_name(name):
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,30}", name or ""):
        raise LabError(f"bad lab name {name!r}: use 1-31 of a-z 0-9 -")
    return name


def parse_range(text):
    match = re.fullmatch(r"(\d+)-(\d+)", text or "")
    low, high = (int(match.group(1)), int(match.group(2))) if match else (0, -1)
    if not 1024 <= low <= high <= 65535:
        raise LabError(f"bad port range {text!r}: want LO-HI within 1024-65535")
    return [low, high]


def subnets(slot):
    """The slot's networks: site 198.18.(10+2S).0/24, its WAN link 198.19.(10+2S).0/24,
    the lab internet 198.18.(11+2S).0/24."""
    if not 0 <= slot <= 99:
        raise LabError(f"bad slot {slot}: want 0..99")
    return {"site": ipaddress.ip_network(f"198.18.{10 + 2 * slot}.0/24"),
            "wan": ipaddress.ip_network(f"198.19.{10 + 2 * slot}.0/24"),
            "internet": ipaddress.ip_network(f"198.18.{11 + 2 * slot}.0/24")}


def host_entry(name, host, role, addresses, dns):
    return {"container": f"{name}-{host}", "role": role, "addresses": addresses,
            "dns": dns}


def plan_hosts(name, nets, endpoints):
    site, wan, inet = nets["site"], nets["wan"], nets["internet"]
    gw_site = str(site[GW_OFFSET])
    dns = str(inet[SERVICE_OFFSETS["dns"]])
    hosts = {"gw": host_entry(name, "gw", "gateway", {"site": gw_site, "wan": str(wan[GW_OFFSET])}, dns),
             "isp": host_entry(name, "isp", "isp", {"wan": str(wan[ISP_WAN_OFFSET]),
                                                    "internet": str(inet[ISP_INTERNET_OFFSET])}, dns)}
    for svc, offset in SERVICE_OFFSETS.items():
        hosts[svc] = host_entry(name, svc, "service", {"internet": str(inet[offset])}, dns)
    for index in range(1, endpoints + 1):
        hosts[f"endpoint{index}"] = host_entry(
            name, f"endpoint{index}", "endpoint",
            {"site": str(site[ENDPOINT_BASE + index])}, gw_site)
    return hosts


def echo_ports(echo_range, relay_range):
    """The UDP echo's ports: a range of at most MAX_ECHO_PORTS inside the relay range."""
    low, high = parse_range(echo_range)
    if not relay_range[0] <= low <= high <= relay_range[1] or high - low >= MAX_ECHO_PORTS:
        raise LabError(f"bad echo range {echo_range!r}: want at most {MAX_ECHO_PORTS} ports inside "
                       f"the relay range {relay_range[0]}-{relay_range[1]}")
    return [low, high]


def plan(name, slot=0, endpoints=2, relay_range="49152-65535", echo_range=ECHO_RANGE):
    """The complete description of a lab (what state.json holds), without side effects."""
    check_name(name)
    if not 1 <= endpoints <= MAX_ENDPOINTS:
        raise LabError(f"bad endpoint count {endpoints}: want 1..{MAX_ENDPOINTS}")
    nets = subnets(slot)
    hosts = plan_hosts(name, nets, endpoints)
    signal, turn = hosts["signal"]["addresses"]["internet"], hosts["turn"]["addresses"]["internet"]
    turn_rest = str(nets["internet"][TURN_REST_OFFSET])
    hosts["turn"]["aliases"] = [turn_rest]
    relay = parse_range(relay_range)
    state_dir = CACHE / name
    return {
        "name": name, "slot": slot, "label": f"{LABEL}={name}",
        "site_network": str(nets["site"]), "wan_network": str(nets["wan"]),
        "internet_network": str(nets["internet"]),
        "subnets": {key: str(net) for key, net in nets.items()},
        "networks": {key: f"{name}-{key}" for key in nets},
        "hosts": hosts,
        "domain": DOMAIN,
        "domains": {f"signal.{DOMAIN}": signal, f"turn.{DOMAIN}": turn,
                    f"media.{DOMAIN}": turn, f"stun.{DOMAIN}": turn,
                    f"turn-rest.{DOMAIN}": turn_rest},
        "relay_range": relay,
        "turn": {"realm": DOMAIN, "server": turn, "rest_server": turn_rest,
                 "ports": {"udp": 3478, "tcp": 3478, "tls": 443},
                 "users": {user: secrets.token_urlsafe(12) for user in TURN_USERS},
                 "secret": secrets.token_hex(16)},
        "udp_echo": {"address": turn, "ports": echo_ports(echo_range, relay)},
        "iperf3": {"address": signal, "port": IPERF3_PORT},
        "state_dir": str(state_dir),
        "ca_cert": str(state_dir / "pki" / "ca.crt"),
        "inventory": str(state_dir / "inventory.yml"),
        "impairments": [],
    }


def turn_rest_credentials(secret, user, ttl=3600, now=None):
    """TURN REST API credentials (username 'expiry:user', HMAC-SHA1 password)."""
    username = f"{int(now if now is not None else time.time()) + ttl}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


# --------------------------------------------------------------------------
# which podman objects belong to a lab: the label alone decides


def labels_of(item):
    """Labels of one entry of podman's JSON listings (ps, network ls, images)."""
    return item.get("Labels") or item.get("labels") or {}


def container_names(item):
    names = item.get("Names") or []
    return names if isinstance(names, list) else [names]


def network_names(item):
    return [item["name"]]


def image_ids(item):
    return [item["Id"]]


def labelled(items, name, key):
    """key(item) of every object in a podman JSON listing that carries the label
    dlegate.lab=<name>. A name that merely looks like the lab's never selects an object."""
    return sorted({found for item in items if labels_of(item).get(LABEL) == name
                   for found in key(item)})


def name_clashes(wanted, items, name, key):
    """Names the lab wants to create that an object without its label already holds."""
    foreign = {found for item in items if labels_of(item).get(LABEL) != name
               for found in key(item)}
    return sorted(foreign & set(wanted))


# --------------------------------------------------------------------------
# subnets the host already uses


def describe_route(route):
    words = [route["dst"]]
    for key, word in (("gateway", "via"), ("dev", "dev"), ("protocol", "proto")):
        if route.get(key):
            words += [word, str(route[key])]
    return " ".join(words)


def route_conflicts(wanted, routes, links):
    """(subnet, what) for each wanted subnet that a host route or address overlaps.

    routes is `ip -j -4 route`, links is `ip -j -4 addr`; the default route covers
    everything and is no conflict."""
    found = []
    for subnet in map(ipaddress.ip_network, wanted):
        for route in routes:
            dst = route.get("dst", "default")
            if dst != "default" and ipaddress.ip_network(dst, strict=False).overlaps(subnet):
                found.append((str(subnet), f"route '{describe_route(route)}'"))
        for link in links:
            for info in link.get("addr_info", []):
                iface = ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}")
                if info.get("family", "inet") == "inet" and iface.network.overlaps(subnet):
                    found.append((str(subnet), f"address {iface} on {link.get('ifname', '?')}"))
    return found


# --------------------------------------------------------------------------
# what each host finds under /lab: only the files its own services read

HOST_FILES = {
    "gw": ("etc/gw.nft", "etc/site-resolver.conf"),
    "dns": ("etc/dns.conf",),
    "signal": ("bin/signal_server.py", "pki/signal.crt", "pki/signal.key"),
    "turn": ("etc/turnserver.conf", "etc/turnserver-rest.conf", "pki/turn.crt", "pki/turn.key",
             "bin/udp_echo.py"),
}
SECRET_FILES = ("etc/turnserver.conf", "etc/turnserver-rest.conf", "pki/signal.key", "pki/turn.key")


def host_files(state):
    """host -> the files (paths under /lab) mounted into it; endpoints get none."""
    return {host: list(HOST_FILES.get(host, ())) for host in state["hosts"]}
