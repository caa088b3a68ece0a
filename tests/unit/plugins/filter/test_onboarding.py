from ansible_collections.dlegate.rtc.plugins.filter.onboarding import FilterModule, onboarding_host_record


def test_host_that_ran_every_stage():
    record = onboarding_host_record({
        "onboarding_preflight": {"egress_compliant": False},
        "onboarding_configure": {"egress_changed": True},
        "onboarding_verify": {"egress_compliant": "True"},
    })
    assert record["preflight_egress_compliant"] is False
    assert record["verify_egress_compliant"] is True
    assert record["configure"] == {"egress_changed": True}


def test_host_that_failed_is_never_reported_compliant():
    record = onboarding_host_record({"onboarding_preflight": {"egress_compliant": True}})
    assert record["configure"] == {"status": "not_run"}
    assert record["verify"] == {"status": "not_run"}
    assert record["verify_egress_compliant"] is False


def test_filter_is_registered():
    assert FilterModule().filters()["onboarding_host_record"] is onboarding_host_record
