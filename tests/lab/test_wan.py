"""The WAN side of the lab: the isp hop between gw and the lab internet carries the
bottleneck and the loss; the UDP echo on turn answers across its port range; iperf3
on signal serves saturation tests."""

import json
import re

ECHO_PROBE = """
import json, socket, sys
address, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
answers = {}
for port in ports:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(1.0)
        sock.connect((address, port))
        payload = b"echo-%d" % port
        try:
            sock.send(payload)
            answers[port] = sock.recv(2048) == payload
        except OSError:
            answers[port] = False
print(json.dumps(answers))
"""


def echo_answers(lab, ports):
    """port -> whether the UDP echo on turn answered endpoint1 on that port."""
    args = " ".join(str(p) for p in ports)
    proc = lab.sh("endpoint1", f"python3 - {lab.state['udp_echo']['address']} {args}",
                  input=ECHO_PROBE, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return {int(port): answered for port, answered in json.loads(proc.stdout).items()}


def udp_flood_loss(lab, mbit, seconds=3):
    """Loss percent of an iperf3 UDP flood from endpoint1 to the iperf3 server on signal."""
    server = lab.state["iperf3"]
    proc = lab.sh("endpoint1", f"iperf3 -c {server['address']} -p {server['port']} -u -b {mbit}M "
                               f"-l 1200 -t {seconds} -J", timeout=seconds + 40)
    result = json.loads(proc.stdout)
    assert "error" not in result, result["error"]
    return result["end"]["sum"]["lost_percent"]


def ttl_to(lab, host, target):
    proc = lab.sh(host, f"ping -n -c 1 -W 2 {target}", timeout=30)
    match = re.search(r"ttl=(\d+)", proc.stdout)
    assert match, proc.stdout + proc.stderr
    return int(match.group(1))


def test_services_are_two_routers_away_from_the_site(permitted):
    lab = permitted
    signal = lab.addr("signal")
    assert ttl_to(lab, "gw", signal) == 63          # gw -> isp -> signal
    assert ttl_to(lab, "endpoint1", signal) == 62   # endpoint -> gw -> isp -> signal
    assert f"default via {lab.addr('isp', 'wan')}" in lab.sh("gw", "ip route").stdout
    assert f"default via {lab.addr('isp', 'internet')}" in lab.sh("turn", "ip route").stdout


def test_isp_routes_without_nat_so_services_see_the_gateway_wan_address(permitted):
    assert permitted.stun_mapped("endpoint1") == permitted.addr("gw", "wan")
    assert permitted.sh("isp", "nft list ruleset").stdout.count("masquerade") == 0


def test_rate_limits_the_isp_both_ways_and_leaves_gw_alone(permitted):
    lab = permitted
    with lab.impaired("rate", rate="5mbit"):
        isp_qdiscs = lab.sh("isp", "tc qdisc show").stdout
        gw_qdiscs = lab.sh("gw", "tc qdisc show").stdout
    for dev in lab.state["hosts"]["isp"]["interfaces"].values():
        assert re.search(rf"qdisc tbf \S+ dev {dev} root .*rate 5Mbit", isp_qdiscs), isp_qdiscs
    assert "tbf" not in gw_qdiscs
    assert "tbf" not in lab.sh("isp", "tc qdisc show").stdout


def test_udp_flood_loses_through_the_isp_bottleneck(permitted):
    lab = permitted
    assert udp_flood_loss(lab, mbit=4) < 5.0
    with lab.impaired("rate", rate="5mbit"):
        loss = udp_flood_loss(lab, mbit=20)
    # 20 Mbit/s into 5 Mbit/s: about three quarters cannot pass
    assert 55.0 < loss < 90.0, loss


def test_udp_echo_answers_across_its_range_until_the_range_is_blocked(permitted):
    lab = permitted
    low, high = lab.state["udp_echo"]["ports"]
    sampled = [low, low + 37, high]
    assert echo_answers(lab, [*sampled, high + 1]) == {**{p: True for p in sampled}, high + 1: False}
    with lab.impaired("block-udp", ports=f"{low}-{high}"):
        assert echo_answers(lab, sampled) == {p: False for p in sampled}
        assert lab.stun_mapped("endpoint1") is not None   # 3478 stays open
    assert echo_answers(lab, sampled) == {p: True for p in sampled}


def test_iperf3_serves_tcp_from_the_lab_internet(lab):
    server = lab.state["iperf3"]
    proc = lab.sh("isp", f"iperf3 -c {server['address']} -p {server['port']} -t 1 -J", timeout=40)
    result = json.loads(proc.stdout)
    assert "error" not in result, result.get("error")
    assert result["end"]["sum_received"]["bytes"] > 0
