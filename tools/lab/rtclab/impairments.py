"""Network impairments: nft rules and tc qdiscs on the lab's routers, extra DNS records."""

import contextlib
import ipaddress
import re

from .common import IMPAIR_KINDS, LabError
from .podman import podman
from .topology import parse_range
from .state import host_dir, load_state, save_state, write_file
from .services import dns_conf, restart_lab_dns


def describe(imp):
    extra = " ".join(f"{k}={v}" for k, v in imp.items() if k != "kind")
    return f"{imp['kind']} {extra}".strip()


def directions(state, router, inside, outside):
    """nft matches for traffic through router from inside to outside ('up') and back."""
    dev = state["hosts"][router]["interfaces"]
    up = f'iifname "{dev[inside]}" oifname "{dev[outside]}"'
    down = f'iifname "{dev[outside]}" oifname "{dev[inside]}"'
    return up, down


def gw_rules(state):
    """The site's own blocks, on gw: what leaves the site for the WAN."""
    out, _ = directions(state, "gw", "site", "wan")
    rules = []
    for imp in state["impairments"]:
        if imp["kind"] == "block-udp":
            port = f" udp dport {imp['ports']}" if imp.get("ports") else ""
            rules.append(f"{out} meta l4proto udp{port} drop")
        elif imp["kind"] == "block-tcp443":
            src = f" ip saddr != {imp['except']}" if imp.get("except") else ""
            rules.append(f"{out}{src} tcp dport 443 drop")
    return rules


def isp_rules(state):
    """WAN loss, on isp: up is the site's traffic towards the internet."""
    up, down = directions(state, "isp", "wan", "internet")
    match = {"both": "", "up": up + " ", "down": down + " "}
    return [f"{match[imp.get('direction', 'both')]}numgen random mod 100 < {imp['percent']} drop"
            for imp in state["impairments"] if imp["kind"] == "loss"]


def impair_nft(rules):
    script = "table inet lab_impair\ndelete table inet lab_impair\n"
    if rules:
        body = "\n".join("    " + r for r in rules)
        script += ("table inet lab_impair {\n  chain forward {\n"
                   "    type filter hook forward priority filter - 50; policy accept;\n"
                   f"{body}\n  }}\n}}\n")
    return script


def rate_to_bps(rate):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)", rate.lower())
    if not match:
        raise LabError(f"bad rate {rate!r}: use e.g. 512kbit, 5mbit")
    scale = {"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}[match.group(2)]
    return int(float(match.group(1)) * scale)


def tc_script(state):
    """The WAN bottleneck: a tbf on both of isp's interfaces, so both directions are
    limited and gw's own interfaces stay free for the QoS under test."""
    rates = [imp["rate"] for imp in state["impairments"] if imp["kind"] == "rate"]
    lines = []
    for dev in state["hosts"]["isp"]["interfaces"].values():
        lines.append(f"tc qdisc del dev {dev} root 2>/dev/null")
        if rates:
            burst = max(3000, rate_to_bps(rates[-1]) // 8 // 50)
            lines.append(f"tc qdisc replace dev {dev} root tbf rate {rates[-1]} "
                         f"burst {burst} latency 50ms || exit 1")
    return "\n".join(lines + ["exit 0"]) + "\n"


def apply_impairments(state):
    gw, isp = state["hosts"]["gw"]["container"], state["hosts"]["isp"]["container"]
    podman("exec", "-i", gw, "nft", "-f", "-", input=impair_nft(gw_rules(state)))
    podman("exec", "-i", isp, "nft", "-f", "-", input=impair_nft(isp_rules(state)))
    podman("exec", "-i", isp, "sh", "-s", input=tc_script(state))
    conf = host_dir(state, "dns") / "etc" / "dns.conf"
    if conf.read_text() != dns_conf(state):
        write_file(conf, dns_conf(state))
        restart_lab_dns(state)


def make_impairment(kind, ports=None, except_source=None, target=None, address="0.0.0.0",
                    rate=None, percent=None, direction="both"):
    """One impairment as state.json records it, validated.

    block-udp [ports="P" or "LO-HI"], block-tcp443 [except_source], dns-nxdomain target,
    dns-sinkhole target [address], rate rate ("5mbit"), loss percent [direction]."""
    if kind == "block-udp":
        return {"kind": kind, "ports": udp_ports(ports)}
    if kind == "block-tcp443":
        return {"kind": kind, "except": str(ipaddress.ip_address(except_source)) if except_source else None}
    if kind == "dns-nxdomain":
        return {"kind": kind, "target": dns_name(target)}
    if kind == "dns-sinkhole":
        return {"kind": kind, "target": dns_name(target), "address": str(ipaddress.IPv4Address(address))}
    if kind == "rate":
        rate_to_bps(rate or "")
        return {"kind": kind, "rate": rate.lower()}
    if kind == "loss":
        if not str(percent).isdigit() or not 0 <= int(percent) <= 100:
            raise LabError(f"bad loss percentage {percent}: want 0..100")
        if direction not in ("both", "up", "down"):
            raise LabError(f"bad loss direction {direction!r}: want both, up or down")
        return {"kind": kind, "percent": int(percent), "direction": direction}
    raise LabError(f"unknown impairment {kind!r}: one of {', '.join(IMPAIR_KINDS)}")


def udp_ports(ports):
    """None (all UDP), one port "P", or a range "LO-HI", as an nft port expression."""
    if ports is None:
        return None
    if "-" in str(ports):
        low, high = parse_range(str(ports))
        return f"{low}-{high}"
    return str(port_number(ports))


def port_number(value):
    if not str(value).isdigit() or not 1 <= int(value) <= 65535:
        raise LabError(f"bad port {value!r}: want 1..65535")
    return int(value)


def dns_name(value):
    if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", value):
        raise LabError(f"bad DNS name {value!r}")
    return value.lower().rstrip(".")


def add_impairment(state, imp):
    """Record imp (replacing one that it supersedes) and apply all impairments."""
    single = ("rate", "loss")
    keep = [i for i in state["impairments"]
            if not (i["kind"] == imp["kind"] and (imp["kind"] in single or i == imp
                                                  or i.get("target", 1) == imp.get("target")))]
    state["impairments"] = keep + [imp]
    apply_impairments(state)
    save_state(state)


def clear_impairments(state, kind="all"):
    if kind != "all" and kind not in IMPAIR_KINDS:
        raise LabError(f"unknown impairment {kind!r}: one of {', '.join(IMPAIR_KINDS)} or all")
    before = len(state["impairments"])
    state["impairments"] = [i for i in state["impairments"]
                            if kind != "all" and i["kind"] != kind]
    apply_impairments(state)
    save_state(state)
    return before - len(state["impairments"])


@contextlib.contextmanager
def impaired(name, kind, **options):
    """Apply one impairment to lab `name` for a with-block. Afterwards the lab's
    impairments are exactly what they were before, even when the block raised.

        with impaired("lab-test", "rate", rate="5mbit"):
            ...measure...
    """
    state = load_state(name)
    before = list(state["impairments"])
    imp = make_impairment(kind, **options)
    add_impairment(state, imp)
    try:
        yield imp
    finally:
        state = load_state(name)
        state["impairments"] = before
        apply_impairments(state)
        save_state(state)
