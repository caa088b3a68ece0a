import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.dlegate.rtc.plugins.filter.bandwidth_plan import FilterModule, bandwidth_plan


def test_filter_returns_the_plan():
    result = bandwidth_plan({"sessions": [{"type": "video", "concurrent": 2, "participants": 3}],
                             "link_down_kbps": 10000})
    assert result["classes"]["video"] == {"upstream_kbps": 1400, "downstream_kbps": 2800}
    assert result["downstream_kbps"] == 2820
    assert result["warnings"] == []


def test_bad_input_fails_naming_the_field():
    with pytest.raises(AnsibleFilterError) as error:
        bandwidth_plan({"sessions": [{"type": "audio", "offered_erlangs": 10, "grade_of_service": 2}]})
    assert "sessions[0].grade_of_service" in str(error.value)


def test_filter_is_registered():
    assert FilterModule().filters()["bandwidth_plan"] is bandwidth_plan
