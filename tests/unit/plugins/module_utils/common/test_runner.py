# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the declarative command runner, with a real AnsibleModule running /bin/sh."""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.dlegate.rtc.plugins.module_utils.common.runner import CheckModeViolation, Command, Tool

SH = Tool("sh", "apt-get install dash", {
    "say": Command(["-c", "printf '%s|%s' {first} {second}"]),
    "echo_stdin": Command(["-c", "cat"]),
    "script": Command(["-s", "-"]),
    "touch": Command(["-c", ": > {path}"], changes=True),
    "exit": Command(["-c", "echo {words} >&2; exit {rc}"]),
})


class Failed(Exception):
    def __init__(self, msg, result):
        super().__init__(msg)
        self.msg = msg
        self.result = result


def fail_json(module, msg, **result):
    raise Failed(msg, result)


@pytest.fixture
def make_module(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def make(check_mode=False):
        with patch_module_args({"_ansible_check_mode": check_mode}):
            return basic.AnsibleModule(argument_spec={}, supports_check_mode=True)
    return make


def test_argv_fills_in_the_declared_arguments():
    assert SH.argv("/bin/sh", "say", first="a", second="b c") == ["/bin/sh", "-c", "printf '%s|%s' a b c"]
    nft = Tool("nft", "apt-get install nftables", {"read": Command(["-j", "list", "table", "inet", "{table}"])})
    assert nft.argv("/usr/sbin/nft", "read", table="dlegate_egress") == \
        ["/usr/sbin/nft", "-j", "list", "table", "inet", "dlegate_egress"]
    with pytest.raises(KeyError):
        nft.argv("/usr/sbin/nft", "read")


def test_placeholders_may_share_the_runner_s_own_argument_names(make_module, tmp_path):
    # pylint: disable=kwarg-superseded-by-positional-arg
    # (that these keywords land in **values, as placeholders, is what is tested)
    tool = Tool("sh", "apt-get install dash", {"run": Command(["-c", "{command}", "{path}"])})
    assert tool.argv("/bin/sh", "run", command="cat", path="/etc/hostname") == ["/bin/sh", "-c", "cat", "/etc/hostname"]
    sh = tool.bind(make_module())
    assert sh.argv("run", command="true", path="x") == [sh.path, "-c", "true", "x"]
    assert sh.run("run", command='echo "$0"', path=str(tmp_path)) == (0, "%s\n" % tmp_path, "")


def test_a_reading_command_runs_and_returns_its_output(make_module):
    sh = SH.bind(make_module())
    assert sh.available and sh.path.endswith("/sh")
    assert sh.argv("say", first="x", second="y") == [sh.path, "-c", "printf '%s|%s' x y"]
    assert sh.run("say", first="x", second="y") == (0, "x|y", "")
    assert sh.run("echo_stdin", data="table inet t {}\n") == (0, "table inet t {}\n", "")


def test_a_reading_command_runs_in_check_mode_too(make_module):
    assert SH.bind(make_module(check_mode=True)).run("say", first="1", second="2") == (0, "1|2", "")


def test_a_changing_command_is_refused_in_check_mode_before_it_runs(make_module, tmp_path):
    target = tmp_path / "changed"
    sh = SH.bind(make_module(check_mode=True))
    with pytest.raises(CheckModeViolation) as error:
        sh.run("touch", path=str(target))
    assert str(error.value) == "sh touch changes the host and must not run in check mode"
    assert not target.exists()


def test_a_changing_command_runs_outside_check_mode(make_module, tmp_path):
    target = tmp_path / "changed"
    assert SH.bind(make_module()).run("touch", path=str(target))[0] == 0
    assert target.exists()


def test_an_accepted_return_code_is_not_a_failure(make_module):
    assert SH.bind(make_module()).run("exit", words="absent", rc=1, ok_rc=(0, 1)) == (1, "", "absent\n")


def test_a_failure_fails_the_module_with_the_command_and_its_error(make_module):
    sh = SH.bind(make_module())
    with pytest.raises(Failed) as failed:
        sh.run("exit", words="no such table", rc=3)
    assert failed.value.msg == "%s -c echo no such table >&2; exit 3 failed (rc=3): no such table" % sh.path
    assert failed.value.result == {"rc": 3, "stdout": "", "stderr": "no such table\n",
                                   "cmd": "%s -c echo no such table >&2; exit 3" % sh.path}


def test_the_failure_message_leaves_out_the_stdin_dash(make_module):
    sh = SH.bind(make_module())
    with pytest.raises(Failed) as failed:
        sh.run("script", data="echo 'Error: syntax error' >&2; exit 1\n")
    assert failed.value.msg == "%s -s failed (rc=1): Error: syntax error" % sh.path
    assert failed.value.result["cmd"] == "%s -s -" % sh.path


@pytest.mark.parametrize("words", ["Operation not permitted", "Permission denied"])
def test_a_permission_failure_carries_the_root_hint(make_module, words):
    with pytest.raises(Failed) as failed:
        SH.bind(make_module()).run("exit", words="'netlink: Error: %s'" % words, rc=1)
    assert failed.value.msg.endswith("netlink: Error: %s (sh needs root: run the task with become: true)" % words)


def test_other_failures_carry_no_root_hint(make_module):
    with pytest.raises(Failed) as failed:
        SH.bind(make_module()).run("exit", words="'Error: Could not process rule'", rc=1)
    assert "become" not in failed.value.msg


def test_a_missing_binary_fails_with_the_install_hint_unless_optional(make_module):
    missing = Tool("dlegate-no-such-tool", "apt-get install dlegate-tools", {"run": Command([])})
    with pytest.raises(Failed) as failed:
        missing.bind(make_module())
    assert failed.value.msg == "dlegate-no-such-tool not found: install it (apt-get install dlegate-tools)"
    optional = missing.bind(make_module(), required=False)
    assert not optional.available and optional.path is None
