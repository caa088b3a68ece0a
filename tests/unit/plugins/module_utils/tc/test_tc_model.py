"""tc core: arguments, the desired tree, and what the kernel offers."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.tc import model
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.tc_fixtures import live, spec

# The scheduler lines of this lab kernel's /proc/config.gz, as it has them.
LAB_KERNEL_CONFIG = """\
CONFIG_NET_SCH_HTB=y
# CONFIG_NET_SCH_HFSC is not set
# CONFIG_NET_SCH_PRIO is not set
# CONFIG_NET_SCH_RED is not set
# CONFIG_NET_SCH_SFQ is not set
CONFIG_NET_SCH_TBF=y
# CONFIG_NET_SCH_NETEM is not set
# CONFIG_NET_SCH_FQ_CODEL is not set
# CONFIG_NET_SCH_CAKE is not set
CONFIG_NET_SCH_INGRESS=y
CONFIG_NET_SCH_FIFO=y
"""

LAB = {"interface": "eth0", "link_kbps": 10000, "realtime": {"rate_kbps": 3000}, "signaling": {"rate_kbps": 200}}


def with_changes(**changes):
    args = copy.deepcopy(LAB)
    for key, value in changes.items():
        if "__" in key:
            part, field = key.split("__")
            args[part] = dict(args.get(part) or {}, **{field: value})
        else:
            args[key] = value
    return args


def test_defaults():
    spec_ = model.normalize_spec(LAB)
    assert spec_["realtime"] == {"rate_kbps": 3000, "ceil_kbps": 3000, "dscp": [18, 34, 46]}
    assert spec_["signaling"] == {"rate_kbps": 200, "ceil_kbps": 10000, "dscp": [24]}
    assert spec_["best_effort"] == {"rate_kbps": 6800, "ceil_kbps": 10000}
    assert spec_["leaf_qdisc"] == "fq_codel"


def test_the_lab_tree():
    tree = model.build_tree(model.normalize_spec(dict(LAB, leaf_qdisc="pfifo")))
    assert tree == {
        "interface": "eth0",
        "root": {"kind": "htb", "handle": "1:", "default": "1:30"},
        "classes": {
            "1:1": {"parent": None, "rate_bit": 10000000, "ceil_bit": 10000000, "prio": None, "leaf": None},
            "1:10": {"parent": "1:1", "rate_bit": 3000000, "ceil_bit": 3000000, "prio": 0, "leaf": "pfifo"},
            "1:20": {"parent": "1:1", "rate_bit": 200000, "ceil_bit": 10000000, "prio": 1, "leaf": "pfifo"},
            "1:30": {"parent": "1:1", "rate_bit": 6800000, "ceil_bit": 10000000, "prio": 2, "leaf": "pfifo"},
        },
        "filters": [{"protocol": protocol, "dscp": dscp, "flowid": "1:20" if dscp == 24 else "1:10"}
                    for protocol in ("ip", "ipv6") for dscp in (18, 24, 34, 46)],
        "unmanaged": [],
    }


def test_dscp_names_and_numbers():
    spec_ = model.normalize_spec(with_changes(realtime__dscp=["EF", "af41", 18, "46"], signaling__dscp=["cs3", "le"]))
    assert spec_["realtime"]["dscp"] == [18, 34, 46]
    assert spec_["signaling"]["dscp"] == [1, 24]
    assert model.DSCP_NAMES["af21"] == 18 and model.DSCP_NAMES["cs0"] == 0 and model.DSCP_NAMES["va"] == 44


def test_signaling_may_select_nothing():
    tree = model.build_tree(model.normalize_spec(with_changes(signaling__dscp=[])))
    assert {item["flowid"] for item in tree["filters"]} == {"1:10"}


def test_ceilings_given():
    spec_ = model.normalize_spec(with_changes(realtime__ceil_kbps=5000, signaling__ceil_kbps=400,
                                              best_effort={"ceil_kbps": 9000}))
    assert (spec_["realtime"]["ceil_kbps"], spec_["signaling"]["ceil_kbps"], spec_["best_effort"]["ceil_kbps"]) == \
        (5000, 400, 9000)


def test_numbers_may_be_strings():
    assert model.normalize_spec(with_changes(link_kbps="10000"))["link_kbps"] == 10000


def test_best_effort_above_a_gigabit_is_rounded_to_what_tc_prints():
    spec_ = model.normalize_spec(spec("fast_link"))
    assert spec_["best_effort"]["rate_kbps"] == 38499000  # 40000000 - 1500000 - 300, in whole Mbit/s


@pytest.mark.parametrize("args, field, words", [
    (with_changes(link_kbps=None), "link_kbps", "required"),
    (with_changes(link_kbps=0), "link_kbps", "whole kbit/s"),
    (with_changes(link_kbps=-10000), "link_kbps", "whole kbit/s"),
    (with_changes(link_kbps=2.5), "link_kbps", "whole kbit/s"),
    (with_changes(link_kbps=True), "link_kbps", "whole kbit/s"),
    (with_changes(link_kbps="fast"), "link_kbps", "whole kbit/s"),
    (with_changes(link_kbps=1234567), "link_kbps", "whole Mbit/s"),
    (with_changes(realtime={}), "realtime.rate_kbps", "required"),
    (with_changes(realtime__rate_kbps=0), "realtime.rate_kbps", "whole kbit/s"),
    (with_changes(signaling={"dscp": [24]}), "signaling.rate_kbps", "required"),
    (with_changes(realtime__rate_kbps=9900, signaling__rate_kbps=200), "realtime.rate_kbps", "reserve 10100"),
    (with_changes(realtime__rate_kbps=9800, signaling__rate_kbps=200), "realtime.rate_kbps", "nothing for best"),
    (with_changes(realtime__ceil_kbps=2000), "realtime.ceil_kbps", "between the class rate"),
    (with_changes(signaling__ceil_kbps=20000), "signaling.ceil_kbps", "between the class rate"),
    (with_changes(best_effort={"ceil_kbps": 100}), "best_effort.ceil_kbps", "between the class rate"),
    (with_changes(best_effort={"rate_kbps": 100}), "best_effort", "unknown key(s) rate_kbps"),
    (with_changes(realtime__dscp=[]), "realtime.dscp", "non-empty list"),
    (with_changes(realtime__dscp="ef"), "realtime.dscp", "list of DSCP"),
    (with_changes(realtime__dscp=[46, 64]), "realtime.dscp[1]", "0-63"),
    (with_changes(realtime__dscp=["expedited"]), "realtime.dscp[0]", "not a DSCP"),
    (with_changes(signaling__dscp=[24, "ef"]), "signaling.dscp", "DSCP 46 already selects the realtime"),
    (with_changes(realtime__priority=1), "realtime", "unknown key(s) priority"),
    (with_changes(burst=1600), "spec", "unknown key(s) burst"),
    (with_changes(leaf_qdisc="cake"), "leaf_qdisc", "choose one of auto, fq_codel, pfifo"),
    (with_changes(interface=""), "interface", "not an interface name"),
    (with_changes(interface="eth0 "), "interface", "not an interface name"),
    (with_changes(interface="a" * 16), "interface", "not an interface name"),
    (with_changes(interface="eth/0"), "interface", "not an interface name"),
    (with_changes(interface=".."), "interface", "not an interface name"),
    (with_changes(interface="eth0#x"), "interface", "not an interface name"),
    (with_changes(interface=None), "interface", "not an interface name"),
])
def test_bad_input_names_the_field(args, field, words):
    with pytest.raises(FieldError) as error:
        model.normalize_spec(args)
    assert error.value.field == field
    assert words in error.value.message


def test_unknown_interface_lists_the_hosts():
    with pytest.raises(FieldError) as error:
        model.normalize_spec(LAB, interfaces=["lo", "ens3"])
    assert error.value.field == "interface"
    assert "no interface 'eth0' on this host; it has ens3, lo" in error.value.message
    assert model.normalize_spec(LAB, interfaces=["lo", "eth0"])["interface"] == "eth0"


def test_spec_must_be_a_dict():
    with pytest.raises(FieldError) as error:
        model.normalize_spec(["eth0"])
    assert error.value.field == "spec"


def test_leaf_qdisc_follows_what_the_kernel_offers():
    lab = model.offered_qdiscs(LAB_KERNEL_CONFIG)
    assert lab == ["fifo", "htb", "ingress", "pfifo", "tbf"]
    assert model.normalize_spec(LAB, offered=lab)["leaf_qdisc"] == "pfifo"
    server = model.offered_qdiscs(LAB_KERNEL_CONFIG.replace("# CONFIG_NET_SCH_FQ_CODEL is not set",
                                                            "CONFIG_NET_SCH_FQ_CODEL=m"))
    assert model.normalize_spec(dict(LAB, leaf_qdisc="auto"), offered=server)["leaf_qdisc"] == "fq_codel"
    with pytest.raises(FieldError) as error:
        model.normalize_spec(dict(LAB, leaf_qdisc="fq_codel"), offered=lab)
    assert error.value.field == "leaf_qdisc"
    assert "fq_codel is not offered by this kernel; it offers fifo, htb, ingress, pfifo, tbf" in error.value.message


def test_offered_qdiscs_from_module_names_and_files():
    offered = model.offered_qdiscs(modules=["kernel/net/sched/sch_fq_codel.ko.xz", "sch_cake", "kernel/net/sched/"
                                            "cls_u32.ko", "/lib/modules/6.1.0/kernel/net/sched/sch_sfq.ko\n"])
    assert offered == ["cake", "fq_codel", "pfifo", "sfq"]
    assert model.choose_leaf_qdisc(offered) == "fq_codel"
    assert model.choose_leaf_qdisc(model.offered_qdiscs()) == "pfifo"


@pytest.mark.parametrize("scenario, has_tree, managed", [
    ("default_root", False, False),
    ("foreign_root", True, False),
    ("lab_tree", True, True),
    ("removed_tree", False, False),
])
def test_whose_tree_is_on_the_interface(scenario, has_tree, managed):
    state = live(scenario, "6.1.0")
    assert model.has_tree(state) is has_tree
    assert model.is_managed_tree(state) is managed


def test_no_model_has_no_tree():
    assert not model.has_tree(None)
    assert not model.is_managed_tree(None)


@pytest.mark.parametrize("handle, parts", [("1:", (1, 0)), ("1:10", (1, 16)), ("8001:1", (0x8001, 1)), (":1", (0, 1))])
def test_split_handle_reads_hex(handle, parts):
    assert model.split_handle(handle) == parts
