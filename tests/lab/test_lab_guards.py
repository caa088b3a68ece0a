"""What the lab refuses to touch or expose: objects it did not make, subnets the host
already routes, secrets in hosts that do not need them; and impairments that always clear."""

import json
import stat
from pathlib import Path

import pytest

from rtclab import impairments, lifecycle, services, state as lab_state, topology
from rtclab.common import LABEL, LabError

CONTAINERS = [
    {"Names": ["unit-gw"], "Labels": {LABEL: "unit"}},
    {"Names": ["unit-dns"], "Labels": None},                   # someone else's, named like ours
    {"Names": ["unit-turn"], "Labels": {LABEL: "unit-other"}},  # another lab's
    {"Names": ["unit-endpoint1"], "Labels": {"other.label": "unit"}},
    {"Names": ["scratch"], "Labels": {LABEL: "unit"}},
]
NETWORKS = [
    {"name": "unit-site", "labels": {LABEL: "unit"}},
    {"name": "unit-internet"},
    {"name": "podman"},
]
IMAGES = [{"Id": "aaa", "Labels": {LABEL: "unit"}}, {"Id": "bbb", "Labels": None}]


@pytest.fixture
def podman_listings(monkeypatch):
    """lifecycle sees these listings, and records the podman commands it runs."""
    listings = {("ps", "-a"): CONTAINERS, ("network", "ls"): NETWORKS, ("images", "-a"): IMAGES}
    calls = []
    monkeypatch.setattr(lifecycle, "podman_list", lambda *args: listings[args])
    monkeypatch.setattr(lifecycle, "podman", lambda *args, **kwargs: calls.append(args))
    return calls


def test_cleanup_removes_only_objects_with_the_lab_label(podman_listings):
    containers, networks = lifecycle.remove_lab("unit")
    assert containers == ["scratch", "unit-gw"]
    assert networks == ["unit-site"]
    assert podman_listings == [("rm", "-f", "-t", "0", "scratch", "unit-gw"),
                               ("network", "rm", "-f", "unit-site"),
                               ("rmi", "-f", "aaa")]


def test_a_foreign_object_holding_a_lab_name_stops_up_with_its_name(podman_listings):
    plan = topology.plan("unit", slot=3, endpoints=1)
    with pytest.raises(LabError, match=f"unit-dns, unit-endpoint1, unit-turn, unit-internet already exist.*{LABEL}=unit"):
        lifecycle.check_names_free(plan)
    assert not podman_listings   # nothing was removed


ROUTES = [
    {"dst": "default", "gateway": "192.0.2.1", "dev": "eth0"},
    {"dst": "192.0.2.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link"},
    {"dst": "198.18.16.0/22", "gateway": "192.0.2.9", "dev": "eth0", "protocol": "static"},
]
LINKS = [
    {"ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8}]},
    {"ifname": "vpn0", "addr_info": [{"family": "inet", "local": "198.18.21.7", "prefixlen": 32}]},
]


def test_route_conflicts_name_the_subnet_and_the_route_or_address():
    assert topology.route_conflicts(["198.18.10.0/24", "198.18.11.0/24"], ROUTES, LINKS) == []
    assert topology.route_conflicts(["198.18.18.0/24", "198.18.21.0/24"], ROUTES, LINKS) == [
        ("198.18.18.0/24", "route '198.18.16.0/22 via 192.0.2.9 dev eth0 proto static'"),
        ("198.18.21.0/24", "address 198.18.21.7/32 on vpn0"),
    ]


def test_up_refuses_a_slot_whose_subnet_the_host_routes(monkeypatch):
    answers = {"route": json.dumps(ROUTES), "addr": json.dumps(LINKS)}

    class Done:
        def __init__(self, stdout):
            self.stdout = stdout
    monkeypatch.setattr(lifecycle, "run", lambda cmd, **kwargs: Done(answers[cmd[-1]]))
    lifecycle.check_host_routes(topology.plan("unit", slot=0))
    with pytest.raises(LabError, match=r"subnet 198\.18\.18\.0/24 of slot 4 .* route '198\.18\.16\.0/22 via"):
        lifecycle.check_host_routes(topology.plan("unit", slot=4))


def test_each_host_mounts_only_what_its_services_read():
    plan = topology.plan("unit", endpoints=2)
    files = topology.host_files(plan)
    assert files["endpoint1"] == files["endpoint2"] == []
    assert not any(name.endswith("ca.key") for names in files.values() for name in names)
    owners = {name: host for host, names in files.items() for name in names}
    assert owners["etc/turnserver.conf"] == owners["pki/turn.key"] == "turn"
    assert owners["pki/signal.key"] == "signal"
    run = lifecycle.run_args(plan, "endpoint1", "img")
    assert "-v" not in run
    run = lifecycle.run_args(plan, "gw", "img")
    assert run[run.index("-v") + 1] == f"{plan['state_dir']}/hosts/gw:/lab:ro"


@pytest.fixture
def written_lab(tmp_path, monkeypatch):
    """A planned lab whose PKI and host files are written under tmp_path."""
    monkeypatch.setattr(topology, "CACHE", tmp_path)
    plan = topology.plan("unit", endpoints=1)
    plan["hosts"]["gw"]["interfaces"] = {"site": "eth0", "wan": "eth1"}
    Path(plan["state_dir"]).mkdir(mode=0o700)
    services.make_pki(plan)
    services.write_host_files(plan)
    return plan


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_secrets_are_readable_by_their_owner_only(written_lab):
    state_dir = Path(written_lab["state_dir"])
    for key in ("ca.key", "signal.key", "turn.key"):
        assert mode(state_dir / "pki" / key) == 0o600, key
    hosts = state_dir / "hosts"
    for secret in ("turn/etc/turnserver.conf", "turn/etc/turnserver-rest.conf", "turn/pki/turn.key",
                   "signal/pki/signal.key"):
        assert mode(hosts / secret) == 0o600, secret
    assert mode(hosts / "dns" / "etc" / "dns.conf") == 0o644


def test_turn_credentials_reach_the_turn_host_only(written_lab):
    hosts = Path(written_lab["state_dir"]) / "hosts"
    secrets = [written_lab["turn"]["secret"], *written_lab["turn"]["users"].values()]
    holders = {path.relative_to(hosts).parts[0] for path in hosts.rglob("*") if path.is_file()
               and any(secret in path.read_text(errors="replace") for secret in secrets)}
    assert holders == {"turn"}
    assert not list(hosts.rglob("ca.key"))
    assert sorted(p.name for p in hosts.iterdir()) == ["dns", "gw", "signal", "turn"]


def test_impaired_restores_the_impairments_even_when_the_block_raises(tmp_path, monkeypatch):
    monkeypatch.setattr(topology, "CACHE", tmp_path)
    monkeypatch.setattr(lab_state, "CACHE", tmp_path)
    plan = topology.plan("unit")
    plan["impairments"] = [{"kind": "dns-nxdomain", "target": "x.dlegate.test"}]
    lab_state.save_state(plan)
    applied = []
    monkeypatch.setattr(impairments, "apply_impairments", lambda st: applied.append(list(st["impairments"])))
    with pytest.raises(RuntimeError):
        with impairments.impaired("unit", "rate", rate="5mbit") as imp:
            assert imp == {"kind": "rate", "rate": "5mbit"}
            assert lab_state.load_state("unit")["impairments"][-1] == imp
            raise RuntimeError("a failed measurement")
    assert lab_state.load_state("unit")["impairments"] == plan["impairments"]
    assert applied[-1] == plan["impairments"]


@pytest.mark.parametrize("kind, options", [
    ("block-udp", {"ports": "80-70"}), ("rate", {"rate": "fast"}), ("loss", {"percent": 101}),
    ("loss", {"percent": 5, "direction": "sideways"}), ("loss", {"percent": "ten"}), ("block-udp", {"ports": "x"}),
    ("dns-nxdomain", {"target": "bad name"}), ("flood", {}),
])
def test_make_impairment_rejects_bad_options(kind, options):
    with pytest.raises(LabError):
        impairments.make_impairment(kind, **options)


def test_running_hosts_see_only_their_own_files(lab):
    assert lab.sh("endpoint1", "find /lab -type f 2>/dev/null").stdout == ""   # nothing mounted
    assert lab.sh("signal", "find /lab -type f | sort").stdout.split() == [
        "/lab/bin/signal_server.py", "/lab/pki/signal.crt", "/lab/pki/signal.key"]
    assert lab.sh("isp", "find /lab -type f 2>/dev/null").stdout == ""
    for host in lab.state["hosts"]:
        assert "ca.key" not in lab.sh(host, "find /lab 2>/dev/null").stdout, host
    assert lab.sh("gw", "grep -rl static-auth-secret /lab").stdout == ""
