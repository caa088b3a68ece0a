# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports validate against the published JSON Schema, and the schema catches what it should."""

from __future__ import annotations

import copy
import json
import os

import jsonschema
import pytest

from ansible_collections.dlegate.rtc.plugins.plugin_utils.report import model
from ansible_collections.dlegate.rtc.tests.unit.plugins.plugin_utils.report.report_samples import RUN, fleet_report

SCHEMA_FILE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "docs", "report-schema.json")


@pytest.fixture(scope="module")
def validator():
    with open(SCHEMA_FILE) as stream:
        schema = json.load(stream)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def roundtrip(report):
    """The report as the callback writes it: through JSON."""
    return json.loads(json.dumps(report, default=str))


def test_the_sample_fleet_report_is_valid(validator):
    validator.validate(roundtrip(fleet_report()))


def test_an_empty_run_is_valid(validator):
    validator.validate(roundtrip(model.build_report([], {}, RUN)))


def test_the_schema_version_matches_the_code(validator):
    with open(SCHEMA_FILE) as stream:
        schema = json.load(stream)
    assert schema["$id"] == "%s/%s" % (model.SCHEMA_NAME, model.SCHEMA_VERSION)
    assert schema["properties"]["schema"]["const"] == model.SCHEMA_NAME


@pytest.mark.parametrize("path, value", [
    (("hosts", 0, "state"), "green"),
    (("hosts", 0, "controls", 0, "id"), "egr-1"),
    (("totals", "host_states", "drifted"), -1),
    (("sites", 0, "extra"), 1),
    (("hosts", 1, "readiness", "verdict"), "OK"),
    (("run", "mode"), "check"),
    (("generated_at"), "yesterday"),
])
def test_the_schema_rejects_what_the_format_does_not_allow(validator, path, value):
    report = roundtrip(fleet_report())
    target = report
    path = path if isinstance(path, tuple) else (path,)
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(report)


def test_a_missing_host_field_is_rejected(validator):
    report = copy.deepcopy(roundtrip(fleet_report()))
    del report["hosts"][0]["controls"]
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(report)
