"""The lab's service side works when reached without the site firewall in the
way: every probe runs on gw itself (its own traffic is not forwarded)."""

import json

from rtclab import lifecycle, topology


def test_status_reports_every_host_and_service_up(lab):
    status = lifecycle.lab_status(lab.name)
    assert status["healthy"], status
    assert set(status["hosts"]) == {"gw", "isp", "dns", "signal", "turn", "endpoint1"}


def test_https_get_verifies_with_lab_ca_and_returns_json(lab):
    proc = lab.sh("gw", "curl -sS --max-time 5 https://signal.dlegate.test/")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "ok"
    assert lab.https_status("gw") == "200"


def test_https_fails_verification_against_another_ca(lab):
    # trusting only some public CA, curl must refuse the signal certificate
    # (exit 60): the 200 above is owed to the installed lab CA
    proc = lab.sh("gw", "ca=$(ls /usr/share/ca-certificates/mozilla/*.crt | head -n 1); "
                        "curl -sS --max-time 5 --capath /nonexistent --cacert \"$ca\" "
                        "https://signal.dlegate.test/")
    assert proc.returncode == 60, proc.stderr


def test_wss_echo_round_trip(lab):
    code = """
import asyncio, ssl, websockets
async def main():
    async with websockets.connect("wss://signal.dlegate.test/ws",
                                  ssl=ssl.create_default_context(), open_timeout=5) as ws:
        await ws.send("hello-lab-42")
        print(await asyncio.wait_for(ws.recv(), 5))
asyncio.run(main())
"""
    proc = lab.python("gw", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello-lab-42"


def test_lab_dns_answers_service_names(lab):
    for name, ip in lab.state["domains"].items():
        assert lab.resolve("gw", name) == [ip], name


def test_lab_dns_has_no_answer_for_unknown_names(lab):
    code = f"""
import dns.resolver, dns.rcode
res = dns.resolver.Resolver(configure=False)
res.nameservers = ["{lab.addr('dns')}"]
res.lifetime = 3
for name in ("nothere.dlegate.test", "example.com"):
    try:
        answer = res.resolve(name, "A")
        print(name, "ANSWER", [r.address for r in answer])
    except dns.resolver.NXDOMAIN:
        print(name, "NXDOMAIN")
    except dns.resolver.NoNameservers:
        print(name, "REFUSED")
    except dns.resolver.NoAnswer:
        print(name, "NOANSWER")
"""
    proc = lab.python("gw", code)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    assert lines["nothere.dlegate.test"] == "NXDOMAIN"
    assert lines["example.com"] in ("REFUSED", "NOANSWER", "NXDOMAIN")


def test_stun_returns_mapped_address(lab):
    assert lab.stun_mapped("gw") == lab.addr("gw", "wan")


def test_turn_relays_with_long_term_credentials(lab):
    password = lab.state["turn"]["users"]["alice"]
    sent, received, loss = lab.uclient("gw", "-u", "alice", "-w", password)
    assert sent == 200 and received == sent and loss == 0.0


def test_turn_relays_with_rest_secret_credentials(lab):
    secret = lab.state["turn"]["secret"]
    sent, received, loss = lab.uclient("gw", "-u", "alice", "-W", secret,
                                       server="turn-rest.dlegate.test")
    assert sent == 200 and received == sent and loss == 0.0


def test_turn_rest_server_accepts_precomputed_rest_credentials(lab):
    user, password = topology.turn_rest_credentials(lab.state["turn"]["secret"], "carol")
    sent, received = lab.uclient("gw", "-u", user, "-w", password, messages=20,
                                 server=lab.state["turn"]["rest_server"])[:2]
    assert received == sent > 0


def test_turn_rejects_wrong_password(lab):
    proc = lab.sh("gw", "timeout 15 turnutils_uclient -c -y -n 5 -u alice -w wrong-password "
                        "turn.dlegate.test", timeout=30)
    out = proc.stdout + proc.stderr
    assert "Cannot complete Allocation" in out and "Total lost packets" not in out


def test_turn_tls_on_443_verifies_and_relays(lab):
    proc = lab.sh("gw", "echo | timeout 10 openssl s_client -connect turn.dlegate.test:443 "
                        "-servername turn.dlegate.test -verify_return_error 2>&1")
    assert "Verify return code: 0 (ok)" in proc.stdout, proc.stdout[-1500:]
    password = lab.state["turn"]["users"]["alice"]
    # coturn's test client over TLS retries some handshakes and, sending fast,
    # leaves received records unread; at 50 ms per message it reads them
    sent, received = lab.uclient("gw", "-t", "-S", "-p", "443", "-u", "alice",
                                 "-w", password, "-z", "50", messages=10)[:2]
    assert sent == 20 and received >= 10
