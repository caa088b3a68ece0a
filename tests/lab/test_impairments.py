"""Each impairment changes a measured flow from endpoint1 (permitted through
the site firewall), and clearing it restores the flow."""

import re


def test_block_udp_stops_stun_until_cleared(permitted):
    lab = permitted
    assert lab.stun_mapped("endpoint1") is not None
    with lab.impaired("block-udp"):
        assert lab.stun_mapped("endpoint1", seconds=2) is None
        assert lab.https_status("endpoint1") == "200"   # TCP unaffected
    assert lab.stun_mapped("endpoint1") is not None


def test_block_udp_port_range_spares_other_ports(permitted):
    lab = permitted
    with lab.impaired("block-udp", ports="3000-3400"):
        assert lab.stun_mapped("endpoint1") is not None
    with lab.impaired("block-udp", ports="3478"):
        assert lab.stun_mapped("endpoint1", seconds=2) is None


def test_block_tcp443_stops_https_unless_excepted(permitted):
    lab = permitted
    with lab.impaired("block-tcp443"):
        assert lab.https_status("endpoint1", seconds=2) is None
        assert lab.stun_mapped("endpoint1") is not None   # UDP unaffected
    assert lab.https_status("endpoint1") == "200"
    with lab.impaired("block-tcp443", except_source=lab.addr("endpoint1")):
        assert lab.https_status("endpoint1") == "200"


def test_dns_nxdomain_breaks_resolution_until_cleared(permitted):
    lab = permitted
    with lab.impaired("dns-nxdomain", target="signal.dlegate.test"):
        assert lab.resolve("endpoint1", "signal.dlegate.test") == []
        assert lab.https_status("endpoint1") is None
        assert lab.resolve("endpoint1", "turn.dlegate.test") == [lab.addr("turn")]
    assert lab.resolve("endpoint1", "signal.dlegate.test") == [lab.addr("signal")]


def test_dns_sinkhole_answers_the_given_address(permitted):
    lab = permitted
    lab.impair("dns-sinkhole", "media.dlegate.test", "--address", "198.18.255.1")
    try:
        assert lab.resolve("endpoint1", "media.dlegate.test") == ["198.18.255.1"]
        listed = lab.impair("list").stdout
        assert "dns-sinkhole" in listed and "media.dlegate.test" in listed
    finally:
        lab.impair("clear", "dns-sinkhole")
    assert lab.resolve("endpoint1", "media.dlegate.test") == [lab.addr("turn")]


def test_loss_shows_in_relayed_media_and_clears(permitted):
    lab = permitted
    password = lab.state["turn"]["users"]["alice"]
    # uclient's relayed media passes isp once (site -> internet) on its way to the
    # peer allocation, so 30 % loss on that direction shows as about 30 %. The site
    # resolver's queries cross isp too, so the TURN server is named by its address.
    with lab.impaired("loss", percent=30, direction="up"):
        loss = lab.uclient("endpoint1", "-u", "alice", "-w", password, server=lab.addr("turn"), timeout=90)[2]
    assert 15.0 <= loss <= 45.0, loss
    loss = lab.uclient("endpoint1", "-u", "alice", "-w", password)[2]
    assert loss <= 2.0, loss


def ping_loss(lab, count=100):
    proc = lab.sh("endpoint1", f"ping -n -q -c {count} -i 0.01 -W 1 {lab.addr('signal')}",
                  timeout=60)
    match = re.search(r"([\d.]+)% packet loss", proc.stdout)
    assert match, proc.stdout + proc.stderr
    return float(match.group(1))


def test_loss_both_directions_hits_request_and_reply(permitted):
    lab = permitted
    assert ping_loss(lab) == 0.0
    with lab.impaired("loss", percent=30):
        loss = ping_loss(lab, count=200)
    # a round trip passes isp twice: 1 - 0.7 ** 2 = 51 %
    assert 35.0 <= loss <= 67.0, loss


def download_mbit(lab, size):
    proc = lab.sh("endpoint1", "curl -sS --max-time 20 -o /dev/null -w '%{speed_download}' "
                               f"https://signal.dlegate.test/bytes/{size}", timeout=40)
    assert proc.returncode == 0, proc.stderr
    return float(proc.stdout) * 8 / 1e6


def test_rate_limit_caps_throughput(permitted):
    lab = permitted
    with lab.impaired("rate", rate="1mbit"):
        limited = download_mbit(lab, 300_000)
    assert 0.3 < limited < 1.1, limited
    assert download_mbit(lab, 3_000_000) > 5 * limited


def test_impairments_are_recorded_and_cleared_together(permitted):
    lab = permitted
    lab.impair("block-udp", "--port", "5000")
    lab.impair("rate", "20mbit")
    listed = lab.impair("list").stdout.splitlines()
    assert any(line.startswith("block-udp") for line in listed)
    assert any(line.startswith("rate") for line in listed)
    lab.impair("clear", "all")
    assert lab.impair("list").stdout.strip() == ""
    for router in ("gw", "isp"):
        assert "tbf" not in lab.sh(router, "tc qdisc show").stdout
        assert lab.sh(router, "nft list table inet lab_impair").returncode != 0


def test_impaired_clears_even_when_the_block_fails(permitted):
    lab = permitted
    try:
        with lab.impaired("block-udp"):
            assert lab.stun_mapped("endpoint1", seconds=2) is None
            raise KeyError("a failing check inside the block")
    except KeyError:
        pass
    assert lab.impair("list").stdout.strip() == ""
    assert lab.stun_mapped("endpoint1") is not None
