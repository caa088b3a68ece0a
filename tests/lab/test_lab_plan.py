"""The lab's pure parts: addressing, apt mirror discovery, credentials."""

import base64
import hashlib
import hmac
import ipaddress

import pytest

from rtclab import image, topology
from rtclab.common import LabError


def test_slot_addressing_never_gives_a_container_the_bridge_address():
    state = topology.plan("unit", slot=7, endpoints=20)
    assert state["site_network"] == "198.18.24.0/24"
    assert state["internet_network"] == "198.18.25.0/24"
    assert state["subnets"] == {"site": "198.18.24.0/24", "wan": "198.19.24.0/24", "internet": "198.18.25.0/24"}
    addresses = [ip for spec in state["hosts"].values() for ip in spec["addresses"].values()]
    assert len(addresses) == len(set(addresses)) == 20 + 2 + 2 + 3   # endpoints, gw, isp, services
    assert not any(ip.endswith(".1") for ip in addresses)
    for ip in addresses:
        assert ipaddress.ip_address(ip) in ipaddress.ip_network("198.18.0.0/15")


@pytest.mark.parametrize("bad", [dict(slot=100), dict(endpoints=0), dict(relay_range="9-8"),
                                 dict(echo_range="40000-40099"), dict(echo_range="50000-51000")])
def test_plan_rejects_bad_arguments(bad):
    with pytest.raises(LabError):
        topology.plan("unit", **bad)


def test_mirror_from_deb822_sources_picks_the_bookworm_entry():
    text = ("Types: deb\nURIs: http://mirror.invalid/debian-security\n"
            "Suites: bookworm-security\nComponents: main\n\n"
            "Types: deb\n# comment\nURIs: http://mirror.invalid/debian\n"
            "Suites: bookworm bookworm-updates\nComponents: main\n")
    assert image.parse_sources_deb822(text) == ["http://mirror.invalid/debian"]


def test_mirror_from_one_line_sources():
    text = ("# deb http://old.invalid/debian bookworm main\n"
            "deb [arch=amd64 signed-by=/k.gpg] http://mirror.invalid/debian bookworm main\n"
            "deb http://mirror.invalid/debian-security bookworm-security main\n")
    assert image.parse_sources_list(text) == ["http://mirror.invalid/debian"]


def test_rest_credentials_follow_the_turn_rest_scheme():
    user, password = topology.turn_rest_credentials("s3cret", "alice", ttl=60, now=1000)
    assert user == "1060:alice"
    expected = hmac.new(b"s3cret", b"1060:alice", hashlib.sha1).digest()
    assert base64.b64decode(password) == expected


def test_image_key_changes_with_the_package_list(monkeypatch):
    key = image.image_key()
    monkeypatch.setattr(image, "read_packages", lambda: ["python3"])
    assert image.image_key() != key and len(key) == 12


def test_service_addresses_stay_where_they_were_and_isp_sits_between():
    hosts = topology.plan("unit", slot=0)["hosts"]
    assert {h: hosts[h]["addresses"] for h in ("dns", "signal", "turn", "endpoint1")} == {
        "dns": {"internet": "198.18.11.53"}, "signal": {"internet": "198.18.11.10"},
        "turn": {"internet": "198.18.11.20"}, "endpoint1": {"site": "198.18.10.11"}}
    assert hosts["gw"]["addresses"] == {"site": "198.18.10.254", "wan": "198.19.10.254"}
    assert hosts["isp"]["addresses"] == {"wan": "198.19.10.253", "internet": "198.18.11.254"}


def test_echo_and_iperf3_are_planned_on_turn_and_signal():
    state = topology.plan("unit", echo_range="60000-60009")
    assert state["udp_echo"] == {"address": state["turn"]["server"], "ports": [60000, 60009]}
    assert state["iperf3"] == {"address": state["hosts"]["signal"]["addresses"]["internet"], "port": 5201}
