# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypothesis strategies for nft's JSON, and a mutator of real listings, shared by the nft tests."""

from __future__ import annotations

from hypothesis import strategies as st

WORDS = ["inet", "ip", "ip6", "dlegate_egress", "egress", "site", "forward", "output", "filter", "@media_v4",
         "@media_v6", "tcp", "udp", "daddr", "saddr", "dport", "sport", "dscp", "ef", "mark", "==", "!=", "in",
         "accept", "drop", "reject", "jump", "interval", "ipv4_addr", "ipv6_addr", "198.51.100.7", "2001:db8::1"]
KEYS = ["family", "table", "name", "chain", "expr", "match", "left", "right", "op", "payload", "protocol", "field",
        "set", "elem", "val", "prefix", "addr", "len", "range", "counter", "mangle", "key", "value", "meta", "|", "&",
        "comment", "type", "flags", "hook", "prio", "policy", "accept", "drop", "reject", "jump", "goto", "target",
        "packets", "bytes"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 70000) | st.sampled_from([2097152, 2 ** 32, -2 ** 63])
    | st.floats(allow_nan=False) | st.sampled_from(WORDS) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), children, max_size=5),
    max_leaves=30)
nft_objects = st.dictionaries(st.sampled_from(["table", "set", "chain", "rule", "counter", "metainfo"]),
                              json_values, min_size=1, max_size=1)
# Any JSON value, and documents of nft's outer shape holding anything.
nft_documents = st.one_of(
    json_values, st.fixed_dictionaries({"nftables": st.lists(nft_objects | json_values, max_size=6)}))


def paths(value, path=()):
    """Every path into a JSON value, the root's () first."""
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in children:
        yield from paths(child, path + (key,))


def mutate(document, data):
    """Replace a node of a JSON document by any JSON value, or delete it, as hypothesis draws."""
    found = list(paths(document))[1:]
    if not found:
        return
    path = data.draw(st.sampled_from(found))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()):
        parent[path[-1]] = data.draw(json_values)
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])
