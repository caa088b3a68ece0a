"""Bringing a lab up and down: networks, containers, removal of what a lab left, status."""

import ipaddress
import json
import shutil
import time
from pathlib import Path

from .common import CACHE, ECHO_RANGE, LABEL, LabError, MOUNT, log
from .podman import parallel, podman, run
from .image import build_image
from .topology import (check_name, container_names, host_files, image_ids, labelled, name_clashes,
                       network_names, plan, route_conflicts)
from .state import host_dir, load_state, save_state, write_inventory
from .services import SERVICE_CHECKS, base_setup, check_services, host_image, make_pki, start_services, write_host_files
from .impairments import describe


def podman_list(*args):
    """A podman listing (ps -a, network ls, images -a) as parsed JSON."""
    return json.loads(podman(*args, "--format", "json").stdout or "[]")


def lab_containers(name):
    return labelled(podman_list("ps", "-a"), name, container_names)


def lab_networks(name):
    return labelled(podman_list("network", "ls"), name, network_names)


def lab_images(name):
    return labelled(podman_list("images", "-a"), name, image_ids)


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
    wanted = {ipaddress.ip_network(subnet) for subnet in state["subnets"].values()}
    for net in json.loads(podman("network", "ls", "--format", "json").stdout or "[]"):
        for sub in net.get("subnets") or []:
            if any(ipaddress.ip_network(sub["subnet"]).overlaps(w) for w in wanted):
                owner = (net.get("labels") or {}).get(LABEL)
                hint = f"run: lab.py down --name {owner}" if owner else "remove that network"
                raise LabError(f"slot {state['slot']} is taken: network {net['name']} uses "
                               f"{sub['subnet']}; pick another --slot or {hint}")


def check_names_free(state):
    """Refuse to start when an object the lab did not make holds one of its names."""
    name = state["name"]
    containers = [spec["container"] for spec in state["hosts"].values()] + [f"{name}-ca-prep"]
    clashes = (name_clashes(containers, podman_list("ps", "-a"), name, container_names)
               + name_clashes(list(state["networks"].values()), podman_list("network", "ls"), name, network_names))
    if clashes:
        raise LabError(f"{', '.join(clashes)} already exist(s) without the label {LABEL}={name}; "
                       "the lab removes only what it made: remove or rename them, or pick another --name")


def check_host_routes(state):
    """Refuse subnets that the host's own routes or addresses already use."""
    routes = json.loads(run(["ip", "-j", "-4", "route"]).stdout or "[]")
    links = json.loads(run(["ip", "-j", "-4", "addr"]).stdout or "[]")
    conflicts = route_conflicts(state["subnets"].values(), routes, links)
    if conflicts:
        subnet, what = conflicts[0]
        raise LabError(f"subnet {subnet} of slot {state['slot']} is already in use on this host: {what}; "
                       "pick another --slot")


def create_networks(state):
    for key, subnet in state["subnets"].items():
        gateway = str(ipaddress.ip_network(subnet)[1])
        podman("network", "create", "--internal", "--disable-dns", "--subnet", subnet,
               "--gateway", gateway, "--label", state["label"], state["networks"][key])


def run_args(state, host, image):
    spec = state["hosts"][host]
    args = ["run", "-d", "--pull", "never", "--name", spec["container"], "--hostname", host,
            "--label", state["label"], "--label", f"{LABEL}.host={host}",
            "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW",
            "--dns", spec["dns"], "--dns-search", "."]
    if host_files(state)[host]:
        args += ["-v", f"{host_dir(state, host)}:{MOUNT}:ro"]
    for net, ip in spec["addresses"].items():
        args += ["--network", f"{state['networks'][net]}:ip={ip}"]
    if spec["role"] in ("gateway", "isp"):
        args += ["--sysctl", "net.ipv4.ip_forward=1"]
    return args + [image, "sleep", "infinity"]


def start_containers(state, image):
    for host, files in host_files(state).items():
        if files:   # the mount source must exist; its files follow once gw's interfaces are known
            host_dir(state, host).mkdir(parents=True, exist_ok=True)
    parallel(lambda host: podman(*run_args(state, host, image), timeout=120),
             list(state["hosts"]))


def router_interfaces(state, host):
    """Map a router's networks ('site', 'wan', 'internet') to its interface names, found by address."""
    spec = state["hosts"][host]
    out = podman("exec", spec["container"], "ip", "-o", "-4", "addr", "show").stdout
    by_ip = {}
    for line in out.splitlines():
        words = line.split()
        by_ip[words[3].split("/")[0]] = words[1]
    return {net: by_ip[ip] for net, ip in spec["addresses"].items()}


def lab_up(name, slot, endpoints, relay_range, echo_range=ECHO_RANGE):
    started = time.monotonic()
    state = plan(name, slot, endpoints, relay_range, echo_range)
    image = build_image()
    containers, networks = remove_lab(name)
    if containers or networks:
        log(f"removed leftovers: {len(containers)} containers, {len(networks)} networks")
    check_subnets_free(state)
    check_host_routes(state)
    check_names_free(state)
    state_dir = Path(state["state_dir"])
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(mode=0o700, parents=True)
    state["image"] = image
    make_pki(state)
    state["host_image"] = host_image(state, image)
    create_networks(state)
    start_containers(state, state["host_image"])
    for router in ("gw", "isp"):
        state["hosts"][router]["interfaces"] = router_interfaces(state, router)
    write_host_files(state)
    save_state(state)
    parallel(lambda host: base_setup(state, host), list(state["hosts"]))
    start_services(state)
    write_inventory(state)
    log(f"lab '{name}' up in {time.monotonic() - started:.1f}s: "
        f"{len(state['hosts'])} hosts, site {state['site_network']}, "
        f"wan {state['wan_network']}, internet {state['internet_network']}")
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
            "site_network": state["site_network"], "wan_network": state["wan_network"],
            "internet_network": state["internet_network"],
            "relay_range": state["relay_range"], "udp_echo": state["udp_echo"], "iperf3": state["iperf3"], "impairments": state["impairments"],
            "inventory": state["inventory"], "hosts": hosts}


def format_status(status):
    echo, iperf3 = status["udp_echo"], status["iperf3"]
    lines = [f"lab {status['name']} (slot {status['slot']}): site {status['site_network']}, "
             f"wan {status['wan_network']}, internet {status['internet_network']}",
             f"relay ports {status['relay_range'][0]}-{status['relay_range'][1]}, "
             f"UDP echo {echo['address']}:{echo['ports'][0]}-{echo['ports'][1]}, "
             f"iperf3 {iperf3['address']}:{iperf3['port']}",
             f"{'HOST':<12} {'CONTAINER':<24} {'ADDRESSES':<30} {'STATE':<9} SERVICES"]
    for host, entry in status["hosts"].items():
        addrs = ", ".join(entry["addresses"].values())
        svcs = " ".join(f"{k}:{v}" for k, v in entry["services"].items())
        lines.append(f"{host:<12} {entry['container']:<24} {addrs:<30} {entry['state']:<9} {svcs}")
    lines.append("impairments: " + (", ".join(describe(i) for i in status["impairments"])
                                    or "none"))
    lines.append("healthy" if status["healthy"] else "NOT healthy")
    return "\n".join(lines)
