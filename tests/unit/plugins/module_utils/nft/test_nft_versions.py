# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The core reads what every supported nftables release prints.

Debian 11, 12 and 13 ship nft 0.9.8, 1.0.6 and 1.1.3. fixtures/nft-<version>/ holds
each one's listing of the same tables, rendered by the core and loaded with that
release's nft (fixtures/capture_versions.py). Read back, every table must equal the
desired state it was rendered from, so a run on any of these hosts is idempotent.

What differs between the releases' JSON: 1.1.3 lists a table's chains before its sets
(1.0.6 the sets first); 0.9.8 lists each chain followed by its rules (later releases
all chains, then all rules) and prints a bare ``reject`` as ``{"reject": null}`` where
later releases name its type and code. The core reads all three the same.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.egress import policy as egress
from ansible_collections.dlegate.rtc.plugins.module_utils.nft import table as nft_table
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.shadowing import find_shadowing_chains
from ansible_collections.dlegate.rtc.plugins.module_utils.qos import marking
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.nft_fixtures import FIXTURES, policy_args

VERSIONS = ["0.9.8", "1.0.6", "1.1.3"]
EGRESS_TABLE = "dlegate_egress"
MARKING_TABLE = "dlegate_qos"
MARK = 0x00200000
CAPTURES = ["permit_output", "enforce_forward", "marking_gateway", "ruleset_terse"]


def capture(version, name):
    with open(os.path.join(FIXTURES, "nft-" + version, name + ".nft.json"), encoding="utf-8") as handle:
        return json.load(handle)


def marking_args():
    with open(os.path.join(FIXTURES, "marking_policies.json"), encoding="utf-8") as handle:
        return json.load(handle)["gateway"]


def egress_policy(name):
    return egress.normalize_policy(policy_args(name))


def marking_policy():
    return marking.normalize_policy(marking_args())


def test_every_release_has_its_captures():
    directories = sorted(name for name in os.listdir(FIXTURES) if name.startswith("nft-"))
    assert directories == ["nft-" + version for version in VERSIONS]
    for version in VERSIONS:
        assert sorted(os.listdir(os.path.join(FIXTURES, "nft-" + version))) == sorted(
            name + ".nft.json" for name in CAPTURES)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", CAPTURES)
def test_each_capture_was_printed_by_its_release(version, name):
    metainfo = capture(version, name)["nftables"][0]["metainfo"]
    assert metainfo["version"] == version and metainfo["json_schema_version"] == 1


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ["permit_output", "enforce_forward"])
def test_the_egress_table_reads_back_as_rendered(version, name):
    policy = egress_policy(name)
    desired = egress.build_desired_state(policy)[0]
    assert egress.parse_live(capture(version, name), EGRESS_TABLE) == desired
    decision = egress.plan(policy, egress.parse_live(capture(version, name), EGRESS_TABLE))
    assert (decision["differences"], decision["script"]) == ([], None)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_marking_table_reads_back_as_rendered(version):
    policy = marking_policy()
    live = marking.parse_live(capture(version, "marking_gateway"), MARKING_TABLE)
    assert live == marking.build_desired_state(policy)[0]
    decision = marking.plan(policy, live)
    assert (decision["differences"], decision["script"]) == ([], None)


def without_elements(state):
    """A table as a terse listing (``nft -t``) shows it: sets without their elements."""
    sets = {name: dict(body, elements=[]) for name, body in state["sets"].items()}
    return dict(state, sets=sets)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_tables_read_back_from_a_terse_ruleset_with_other_tables(version):
    ruleset = capture(version, "ruleset_terse")
    assert egress.parse_live(ruleset, EGRESS_TABLE) == without_elements(
        egress.build_desired_state(egress_policy("enforce_forward"))[0])
    assert marking.parse_live(ruleset, MARKING_TABLE) == without_elements(
        marking.build_desired_state(marking_policy())[0])


@pytest.mark.parametrize("version", VERSIONS)
def test_the_rendered_text_is_the_same_on_every_release(version):
    live = egress.parse_live(capture(version, "enforce_forward"), EGRESS_TABLE)
    assert nft_table.render_table(live) == nft_table.render_table(egress.parse_live(
        capture(VERSIONS[0], "enforce_forward"), EGRESS_TABLE))


@pytest.mark.parametrize("version", VERSIONS)
def test_shadowing_is_judged_the_same_on_every_release(version):
    ruleset = capture(version, "ruleset_terse")
    forward = [(chain["table"], chain["chain"], chain["drops"])
               for chain in find_shadowing_chains(ruleset, EGRESS_TABLE, "forward", MARK)]
    # ends_in_bare_reject: nft 0.9.8 prints its last rule's verdict as {"reject": null}
    assert forward == [("firewalld_style", "filter_FORWARD", "ends in reject"),
                       ("drops_the_mark", "forward", "policy drop"),
                       ("counter_equals_mark", "forward", "policy drop"),
                       ("ends_in_bare_reject", "forward", "ends in reject")]
    output = [(chain["family"], chain["table"], chain["drops"])
              for chain in find_shadowing_chains(ruleset, EGRESS_TABLE, "output", MARK)]
    assert output == [("ip6", "output_only", "policy drop")]
