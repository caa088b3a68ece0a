"""Real `tc -j ... show` captures (fixtures/tc, made by fixtures/tc/capture.py) for the tc core's tests."""

import json
import os

from ansible_collections.dlegate.rtc.plugins.module_utils.tc import model, parse

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "tc")
VERSIONS = ("6.1.0", "6.15.0")
SCENARIOS = ("default_root", "foreign_root", "lab_tree", "fast_link", "edited_tree", "foreign_items",
             "replaced_tree", "replaced_foreign_root", "removed_tree")


def capture(scenario, version):
    """The capture as stored: scenario, spec, iproute2, interface, commands, and qdisc/class/filter as printed."""
    with open(os.path.join(FIXTURES, "%s.iproute2-%s.json" % (scenario, version)), encoding="utf-8") as handle:
        return json.load(handle)


def spec(name):
    with open(os.path.join(FIXTURES, "specs.json"), encoding="utf-8") as handle:
        return json.load(handle)[name]


def desired(name):
    return model.build_tree(model.normalize_spec(spec(name)))


def live(scenario, version):
    document = capture(scenario, version)
    return parse.parse_tree(document["interface"], document["qdisc"], document["class"], document["filter"])
