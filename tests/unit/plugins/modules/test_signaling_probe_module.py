# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the dlegate.rtc.signaling_probe module: main() against servers the test starts on 127.0.0.1."""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.dlegate.rtc.plugins.modules import signaling_probe
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.signaling.servers import (
    SERVICE_NAME,
    ConnectProxy,
    SignalServer,
    make_pki,
)


class Exited(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class Failed(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


@pytest.fixture
def module_exits(monkeypatch):
    def exit_json(module, **result):
        raise Exited(result)

    def fail_json(module, msg, **result):
        raise Failed(dict(result, msg=msg))

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def inspected(pki):
    with SignalServer(pki.inspected_cert, pki.inspected_key) as server:
        yield server


def run(args, outcome=Exited):
    with patch_module_args(args):
        with pytest.raises(outcome) as caught:
            signaling_probe.main()
    return caught.value.result


def test_check_mode_reports_inspection_through_a_proxy(module_exits, pki, inspected):
    with ConnectProxy({SERVICE_NAME + ":443": ("127.0.0.1", inspected.port)},
                      credentials="Basic cHJvYmU6czNjcmV0") as proxy:
        result = run({"host": SERVICE_NAME, "proxy": proxy.url, "proxy_username": "probe",
                      "proxy_password": "s3cret", "ca_path": pki.both_cas,
                      "expected_issuer": "DLEGATE Test Root CA", "timeout": 3, "_ansible_check_mode": True})
    assert result["changed"] is False
    assert [finding["id"] for finding in result["findings"]] == ["tls_inspected"]
    assert result["passed"] is False
    assert result["proxy_status"] == "HTTP/1.1 200 Connection established"
    assert result["certificate"]["issuer_cn"] == "Corp TLS Inspection CA"
    assert set(result["timings"]) == {"dns_ms", "connect_ms", "proxy_ms", "tls_ms", "http_ms", "ws_ms"}
    assert result["websocket"]["echoed"] is True


def test_a_healthy_service(module_exits, pki):
    with SignalServer(pki.service_cert, pki.service_key) as server:
        result = run({"host": SERVICE_NAME, "address": "127.0.0.1", "port": server.port, "ca_path": pki.service_ca,
                      "spki_pins": [pki.service_pin], "timeout": 3})
    assert result["passed"] is True and result["findings"] == []
    assert result["tls"]["identity"] == "matched"


def test_bad_argument_fails_with_its_field(module_exits):
    result = run({"host": SERVICE_NAME, "proxy": "http://user:pw@proxy.test:3128"}, Failed)
    assert result["field"] == "proxy"


def test_the_proxy_password_is_never_logged():
    assert signaling_probe.ARGUMENT_SPEC["proxy_password"]["no_log"] is True
