"""The site as the collection finds it: gw's locked-down firewall drops every
forwarded packet from the endpoints unless it carries the permit mark."""


def test_endpoint_resolves_service_names_through_site_resolver(lab):
    resolv = lab.sh("endpoint1", "cat /etc/resolv.conf").stdout
    assert f"nameserver {lab.addr('gw', 'site')}" in resolv
    assert lab.resolve("endpoint1", "signal.dlegate.test") == [lab.addr("signal")]
    assert lab.resolve("endpoint1", "turn.dlegate.test") == [lab.addr("turn")]


def test_endpoint_has_no_hosts_shortcut_for_service_names(lab):
    hosts = lab.sh("endpoint1", "cat /etc/hosts").stdout
    assert "dlegate.test" not in hosts


def test_initial_firewall_blocks_https(lab):
    assert lab.https_status("endpoint1", seconds=2) is None


def test_initial_firewall_blocks_stun(lab):
    assert lab.stun_mapped("endpoint1", seconds=2) is None


def test_mark_set_on_endpoint_does_not_reach_gw(lab):
    # the skb mark is cleared when a packet leaves the endpoint's namespace,
    # so the permit mark has to be set on the gateway
    script = ("nft add table inet lab_test_mark && "
              "nft add chain inet lab_test_mark out "
              "'{ type route hook output priority mangle; }' && "
              "nft add rule inet lab_test_mark out meta mark set 0x00200000")
    assert lab.sh("endpoint1", script).returncode == 0
    try:
        assert lab.https_status("endpoint1", seconds=2) is None
    finally:
        lab.sh("endpoint1", "nft delete table inet lab_test_mark")


def test_permit_mark_on_gw_lets_https_through(permitted):
    assert permitted.https_status("endpoint1") == "200"


def test_permit_mark_on_gw_lets_stun_through_with_nat(permitted):
    assert permitted.stun_mapped("endpoint1") == permitted.addr("gw", "wan")


def test_unmarked_endpoint_traffic_stays_blocked_next_to_permitted(permitted):
    # only endpoint1 is permitted; gw's own site address is not a forwarded source,
    # so probe with a second source address on endpoint1 that the permit rule ignores
    lab = permitted
    extra = lab.addr("endpoint1").rsplit(".", 1)[0] + ".250"
    assert lab.sh("endpoint1", f"ip addr add {extra}/24 dev eth0").returncode == 0
    try:
        proc = lab.sh("endpoint1", f"curl -sS --max-time 2 --interface {extra} -o /dev/null "
                                   "https://signal.dlegate.test/")
        assert proc.returncode != 0
    finally:
        lab.sh("endpoint1", f"ip addr del {extra}/24 dev eth0")
