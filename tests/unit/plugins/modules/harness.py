# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One harness for the module tests: fake host binaries that record argv and stdin, and cases as data.

A fake binary is a real executable in a temporary bin directory. It answers from
a list of responses, each matched on its argv (after the binary's name), and
appends every call to a log, so a test sees exactly what the module ran and fed
it. A module under test finds binaries only in that directory.

A case (in a module's YAML file) names the module arguments, the check and diff
flags, the binaries' responses and what must come out::

    - id: check mode reports drift
      args: {...}
      check: true
      binaries:
        nft:
          - {argv: [-j, list, table, inet, dlegate_egress], stdout_fixture: edited_rule_added}
      expect:
        changed: true
        result: {compliant: false}          # a subset of the result
        calls: {nft: [[-j, list, table, inet, dlegate_egress]]}
"""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.nft_fixtures import fixture

FAKE = r'''#!{python}
import json, sys
here = {here!r}
argv = sys.argv[1:]
stdin = "" if sys.stdin.isatty() else sys.stdin.read()
with open(here + ".calls", "a") as log:
    log.write(json.dumps({{"argv": argv, "stdin": stdin}}) + "\n")
with open(here + ".responses") as handle:
    responses = json.load(handle)
for response in responses:
    if response["argv"] == argv:
        sys.stdout.write(response.get("stdout", ""))
        sys.stderr.write(response.get("stderr", ""))
        sys.exit(response.get("rc", 0))
sys.stderr.write("fake: no response for %r\n" % (argv,))
sys.exit(99)
'''


class Exited(Exception):
    def __init__(self, result, failed):
        super().__init__(result)
        self.result = result
        self.failed = failed


class FakeBinary(object):
    def __init__(self, bin_dir, name, responses=()):
        self.path = os.path.join(str(bin_dir), name)
        with open(self.path, "w") as handle:
            handle.write(FAKE.format(python=sys.executable, here=self.path))
        os.chmod(self.path, stat.S_IRWXU)
        self.respond(responses)

    def respond(self, responses):
        with open(self.path + ".responses", "w") as handle:
            json.dump([expand(response) for response in responses], handle)

    @property
    def calls(self):
        if not os.path.exists(self.path + ".calls"):
            return []
        with open(self.path + ".calls") as handle:
            return [json.loads(line) for line in handle]

    @property
    def argvs(self):
        return [call["argv"] for call in self.calls]


def expand(response):
    """A response with ``stdout_fixture`` (a real nft capture) turned into its JSON text."""
    response = dict(response)
    name = response.pop("stdout_fixture", None)
    if name:
        response["stdout"] = json.dumps(fixture(name))
    return response


class Host(object):
    """Fake binaries in a bin directory, the module's view of the host."""

    def __init__(self, tmp_path, monkeypatch):
        self.bin_dir = tmp_path / "bin"
        self.bin_dir.mkdir()
        self.binaries = {}
        self.warnings = []
        bin_dir = str(self.bin_dir)

        def get_bin_path(module, name, required=False, opt_dirs=None):
            path = os.path.join(bin_dir, name)
            return path if os.path.exists(path) else None

        def exit_json(module, **result):
            raise Exited(dict(result, warnings=list(self.warnings)), failed=False)

        def fail_json(module, msg, **result):
            raise Exited(dict(result, msg=msg, warnings=list(self.warnings)), failed=True)

        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", get_bin_path)
        monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
        monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
        monkeypatch.setattr(basic.AnsibleModule, "warn", lambda module, text: self.warnings.append(text))

    def binary(self, name, responses=()):
        self.binaries[name] = FakeBinary(self.bin_dir, name, responses)
        return self.binaries[name]

    def run(self, main, args, check=False, diff=False):
        """Run a module's main(); return (failed, result)."""
        del self.warnings[:]
        with patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=diff)):
            with pytest.raises(Exited) as outcome:
                main()
        return outcome.value.failed, outcome.value.result


def load_cases(path):
    with open(path) as handle:
        cases = yaml.safe_load(handle)
    return [pytest.param(case, id=case["id"]) for case in cases]


def subset_mismatches(expected, actual, where="result"):
    """Where ``actual`` differs from the ``expected`` subset (dicts are compared key by key)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append("%s.%s is missing" % (where, key))
            else:
                problems.extend(subset_mismatches(value, actual[key], "%s.%s" % (where, key)))
        return problems
    return [] if expected == actual else ["%s is %r, expected %r" % (where, actual, expected)]


def check_case(host, main, case):
    """Run one YAML case and assert everything it expects."""
    for name, responses in (case.get("binaries") or {}).items():
        host.binary(name, responses)
    failed, result = host.run(main, case["args"], check=case.get("check", False), diff=case.get("diff", False))
    expect = case["expect"]
    assert failed is expect.get("failed", False), result.get("msg")
    if "changed" in expect:
        assert result.get("changed") is expect["changed"]
    for text in expect.get("msg_contains", []):
        assert text in result["msg"], result["msg"]
    assert subset_mismatches(expect.get("result", {}), result) == []
    for name, argvs in (expect.get("calls") or {}).items():
        assert host.binaries[name].argvs == argvs
    for name, texts in (expect.get("stdin_contains") or {}).items():
        stdin = "".join(call["stdin"] for call in host.binaries[name].calls)
        for text in texts:
            assert text in stdin
    for text in expect.get("warnings_contain", []):
        assert any(text in warning for warning in result["warnings"]), result["warnings"]
    return result
