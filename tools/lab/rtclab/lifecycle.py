"""Bringing a lab up and down: networks, containers, removal of what a lab left, status."""

import ipaddress
import json
import re
import shutil
import time
from pathlib import Path

from .common import CACHE, LABEL, LabError, MOUNT, log
from .podman import parallel, podman
from .image import build_image
from .topology import check_name, plan
from .state import load_state, save_state, write_inventory
from .services import SERVICE_CHECKS, base_setup, check_services, host_image, make_pki, start_services, write_configs
from .impairments import describe


def lab_containers(name):
    out = podman("ps", "-a", "--filter", f"label={LABEL}={name}",
                 "--format", "{{.Names}}").stdout
    found = set(out.split())
    role = r"(gw|dns|signal|turn|endpoint\d+|ca-prep)"
    out = podman("ps", "-a", "--format", "{{.Names}}").stdout
    found |= {n for n in out.split() if re.fullmatch(re.escape(name) + "-" + role, n)}
    return sorted(found)


def lab_networks(name):
    out = podman("network", "ls", "--filter", f"label={LABEL}={name}",
                 "--format", "{{.Name}}").stdout
    found = set(out.split())
    out = podman("network", "ls", "--format", "{{.Name}}").stdout
    found |= {n for n in out.split() if n in (f"{name}-site", f"{name}-internet")}
    return sorted(found)


def lab_images(name):
    out = podman("images", "-a", "--filter", f"label={LABEL}={name}",
                 "--format", "{{.ID}}").stdout
    return sorted(set(out.split()))


def remove_lab(name):
    containers = lab_containers(name)
    if containers:
        podman("rm", "-f", "-t", "0", *containers, timeout=300)
    networks = lab_networks(name)
    if networks:
        podman("network", "rm", "-f", *networks)
    images = lab_images(name)
    if images:
        podman("rmi", "-f", *images)
    return containers, networks


def check_subnets_free(state):
    """Fail early, naming the owner, if another network holds this slot's subnets."""
    wanted = {ipaddress.ip_network(state["site_network"]),
              ipaddress.ip_network(state["internet_network"])}
    for net in json.loads(podman("network", "ls", "--format", "json").stdout or "[]"):
        for sub in net.get("subnets") or []:
            if any(ipaddress.ip_network(sub["subnet"]).overlaps(w) for w in wanted):
                owner = (net.get("labels") or {}).get(LABEL)
                hint = f"run: lab.py down --name {owner}" if owner else "remove that network"
                raise LabError(f"slot {state['slot']} is taken: network {net['name']} uses "
                               f"{sub['subnet']}; pick another --slot or {hint}")


def create_networks(state):
    site, inet = state["site_network"], state["internet_network"]
    for key, subnet in (("site", site), ("internet", inet)):
        gateway = str(ipaddress.ip_network(subnet)[1])
        podman("network", "create", "--internal", "--disable-dns", "--subnet", subnet,
               "--gateway", gateway, "--label", state["label"], state["networks"][key])


def run_args(state, host, image):
    spec = state["hosts"][host]
    args = ["run", "-d", "--pull", "never", "--name", spec["container"], "--hostname", host,
            "--label", state["label"], "--label", f"{LABEL}.host={host}",
            "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW",
            "--dns", spec["dns"], "--dns-search", ".",
            "-v", f"{state['state_dir']}:{MOUNT}:ro"]
    for net, ip in spec["addresses"].items():
        args += ["--network", f"{state['networks'][net]}:ip={ip}"]
    if spec["role"] == "gateway":
        args += ["--sysctl", "net.ipv4.ip_forward=1"]
    return args + [image, "sleep", "infinity"]


def start_containers(state, image):
    parallel(lambda host: podman(*run_args(state, host, image), timeout=120),
             list(state["hosts"]))


def gw_interfaces(state):
    """Map 'site'/'internet' to gw's interface names, found by address."""
    gw = state["hosts"]["gw"]
    out = podman("exec", gw["container"], "ip", "-o", "-4", "addr", "show").stdout
    by_ip = {}
    for line in out.splitlines():
        words = line.split()
        by_ip[words[3].split("/")[0]] = words[1]
    return {net: by_ip[ip] for net, ip in gw["addresses"].items()}


def lab_up(name, slot, endpoints, relay_range):
    started = time.monotonic()
    state = plan(name, slot, endpoints, relay_range)
    image = build_image()
    containers, networks = remove_lab(name)
    if containers or networks:
        log(f"removed leftovers: {len(containers)} containers, {len(networks)} networks")
    check_subnets_free(state)
    state_dir = Path(state["state_dir"])
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    state["image"] = image
    make_pki(state)
    state["host_image"] = host_image(state, image)
    create_networks(state)
    start_containers(state, state["host_image"])
    state["hosts"]["gw"]["interfaces"] = gw_interfaces(state)
    write_configs(state)
    save_state(state)
    parallel(lambda host: base_setup(state, host), list(state["hosts"]))
    start_services(state)
    write_inventory(state)
    log(f"lab '{name}' up in {time.monotonic() - started:.1f}s: "
        f"{len(state['hosts'])} hosts, site {state['site_network']}, "
        f"internet {state['internet_network']}")
    return state


def lab_down(name):
    containers, networks = remove_lab(check_name(name))
    shutil.rmtree(CACHE / name, ignore_errors=True)
    log(f"lab '{name}' down: removed {len(containers)} containers, {len(networks)} networks")


def container_states(name):
    out = podman("ps", "-a", "--filter", f"label={LABEL}={name}", "--format", "json").stdout
    states = {}
    for item in json.loads(out or "[]"):
        names = item.get("Names") or []
        for cname in names if isinstance(names, list) else [names]:
            states[cname] = item.get("State", "unknown")
    return states


def lab_status(name):
    state = load_state(name)
    states = container_states(name)
    hosts = {}
    for host, spec in state["hosts"].items():
        entry = {"container": spec["container"], "role": spec["role"],
                 "addresses": dict(spec["addresses"], **{
                     f"alias{i}": ip for i, ip in enumerate(spec.get("aliases", []), 1)}),
                 "state": states.get(spec["container"], "missing"), "services": {}}
        hosts[host] = entry

    def services(host):
        if hosts[host]["state"] == "running":
            hosts[host]["services"] = check_services(hosts[host]["container"],
                                                     SERVICE_CHECKS[host])
        else:
            hosts[host]["services"] = {svc: "down" for svc in SERVICE_CHECKS[host]}
    parallel(services, list(SERVICE_CHECKS))
    healthy = all(h["state"] == "running" and all(v == "up" for v in h["services"].values())
                  for h in hosts.values())
    return {"name": name, "slot": state["slot"], "healthy": healthy,
            "site_network": state["site_network"], "internet_network": state["internet_network"],
            "relay_range": state["relay_range"], "impairments": state["impairments"],
            "inventory": state["inventory"], "hosts": hosts}


def format_status(status):
    lines = [f"lab {status['name']} (slot {status['slot']}): site {status['site_network']}, "
             f"internet {status['internet_network']}, relay ports "
             f"{status['relay_range'][0]}-{status['relay_range'][1]}",
             f"{'HOST':<12} {'CONTAINER':<24} {'ADDRESSES':<30} {'STATE':<9} SERVICES"]
    for host, entry in status["hosts"].items():
        addrs = ", ".join(entry["addresses"].values())
        svcs = " ".join(f"{k}:{v}" for k, v in entry["services"].items())
        lines.append(f"{host:<12} {entry['container']:<24} {addrs:<30} {entry['state']:<9} {svcs}")
    lines.append("impairments: " + (", ".join(describe(i) for i in status["impairments"])
                                    or "none"))
    lines.append("healthy" if status["healthy"] else "NOT healthy")
    return "\n".join(lines)
