# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Code that runs on managed hosts stays within Python 3.8, checked statically.

ansible-core 2.19 runs modules on Python 3.8 to 3.13. One interpreter is installed
where the tests run, so every file under plugins/modules and plugins/module_utils
is checked by reading it: it must parse with Python 3.8's grammar, keep its
annotations unevaluated, and use none of the listed names and forms that came
after 3.8. Each rule is first shown to catch what it names.
"""

from __future__ import annotations

import ast
import os

import pytest

OLDEST = (3, 8)
PLUGINS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "plugins"))
TARGET_DIRS = ("modules", "module_utils")

NEWER_MODULES = {"zoneinfo": "3.9", "graphlib": "3.9", "tomllib": "3.11"}
# module -> names it gained after 3.8
NEWER_NAMES = {
    "math": {"lcm": "3.9", "nextafter": "3.9", "ulp": "3.9", "cbrt": "3.11", "exp2": "3.11"},
    "functools": {"cache": "3.9"},
    "itertools": {"pairwise": "3.10", "batched": "3.12"},
    "datetime": {"UTC": "3.11"},
    "hashlib": {"file_digest": "3.11"},
    "contextlib": {"chdir": "3.11", "aclosing": "3.10"},
    "enum": {"StrEnum": "3.11", "verify": "3.11"},
    "statistics": {"correlation": "3.10", "covariance": "3.10", "linear_regression": "3.10"},
    "asyncio": {"to_thread": "3.9", "TaskGroup": "3.11", "timeout": "3.11"},
    "typing": {"Annotated": "3.9", "ParamSpec": "3.10", "TypeAlias": "3.10", "Self": "3.11", "Never": "3.11"},
    "random": {"randbytes": "3.9"},
    "socket": {"send_fds": "3.9", "recv_fds": "3.9"},
}
NEWER_METHODS = {"removeprefix": "3.9", "removesuffix": "3.9", "bit_count": "3.10", "is_relative_to": "3.9",
                 "with_stem": "3.9"}
NEWER_KEYWORDS = {("zip", "strict"): "3.10", ("dataclass", "slots"): "3.10", ("dataclass", "kw_only"): "3.10"}
BUILTIN_GENERICS = {"list", "dict", "tuple", "set", "frozenset", "type"}


def target_files():
    for directory in TARGET_DIRS:
        for root, dirs, files in os.walk(os.path.join(PLUGINS, directory)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".py"):
                    yield os.path.relpath(os.path.join(root, name), PLUGINS)


def annotation_nodes(tree):
    """The ids of every node inside an annotation: with postponed evaluation they never run."""
    inside = set()
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotations.append(node.returns)
        elif isinstance(node, ast.arg):
            annotations.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in annotations:
            if annotation is not None:
                inside.update(id(child) for child in ast.walk(annotation))
    return inside


def dotted(node):
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def call_name(node):
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def is_dict_value(node):
    return isinstance(node, (ast.Dict, ast.DictComp)) or (isinstance(node, ast.Call) and call_name(node) == "dict")


def node_findings(node, in_annotation):
    """What in one node needs a Python newer than 3.8: [(what, version)]."""
    found = []
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        module = node.module if isinstance(node, ast.ImportFrom) else None
        for alias in node.names:
            name = module or alias.name
            if name.split(".")[0] in NEWER_MODULES:
                found.append(("module %s" % name, NEWER_MODULES[name.split(".")[0]]))
            elif module in NEWER_NAMES and alias.name in NEWER_NAMES[module]:
                found.append(("%s.%s" % (module, alias.name), NEWER_NAMES[module][alias.name]))
    elif isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.attr in NEWER_NAMES.get(node.value.id, {}):
            found.append(("%s.%s" % (node.value.id, node.attr), NEWER_NAMES[node.value.id][node.attr]))
    elif isinstance(node, ast.Call):
        name = call_name(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr in NEWER_METHODS:
            found.append(("method %s()" % node.func.attr, NEWER_METHODS[node.func.attr]))
        for keyword in node.keywords:
            if (name, keyword.arg) in NEWER_KEYWORDS:
                found.append(("%s(%s=...)" % (name, keyword.arg), NEWER_KEYWORDS[(name, keyword.arg)]))
    elif isinstance(node, ast.Subscript) and not in_annotation:
        if isinstance(node.value, ast.Name) and node.value.id in BUILTIN_GENERICS:
            found.append(("%s[...] evaluated at run time" % node.value.id, "3.9"))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        if is_dict_value(node.left) or is_dict_value(node.right):
            found.append(("dict | dict", "3.9"))
    elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.BitOr) and is_dict_value(node.value):
        found.append(("dict |= dict", "3.9"))
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if not dotted(target):
                found.append(("decorator that is not a dotted name", "3.9"))
    elif isinstance(node, ast.arg) and isinstance(node.annotation, ast.Starred):
        found.append(("starred annotation", "3.11"))
    return found


def newer_than_oldest(source, filename="<source>"):
    """Everything in the source that needs a Python newer than 3.8, as 'line N: what (3.x)'."""
    try:
        tree = ast.parse(source, filename, feature_version=OLDEST)
    except SyntaxError as exc:
        return ["line %s: %s" % (exc.lineno, exc.msg)]
    in_annotation = annotation_nodes(tree)
    findings = []
    for node in ast.walk(tree):
        for what, version in node_findings(node, id(node) in in_annotation):
            findings.append("line %d: %s (Python %s)" % (node.lineno, what, version))
    return sorted(findings)


def postpones_annotations(source):
    tree = ast.parse(source)
    return any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
               and any(alias.name == "annotations" for alias in node.names) for node in tree.body)


def read(relpath):
    with open(os.path.join(PLUGINS, relpath), encoding="utf-8") as handle:
        return handle.read()


CAUGHT = [
    ("match value:\n    case 1:\n        pass\n", "Pattern matching"),
    ("try:\n    pass\nexcept* ValueError:\n    pass\n", "Exception groups"),
    ("with (open('a') as a, open('b') as b):\n    pass\n", "Parenthesized context managers"),
    ("@handlers[0]\ndef f():\n    pass\n", "decorator that is not a dotted name"),
    ("def f(*args: *Shapes):\n    pass\n", "starred annotation"),
    ("import zoneinfo\n", "module zoneinfo"),
    ("from graphlib import TopologicalSorter\n", "module graphlib"),
    ("from functools import cache\n", "functools.cache"),
    ("import math\nmath.lcm(4, 6)\n", "math.lcm"),
    ("name = 'x_y'.removeprefix('x_')\n", "method removeprefix()"),
    ("pairs = list(zip(a, b, strict=True))\n", "zip(strict=...)"),
    ("Ports = list[int]\n", "list[...] evaluated at run time"),
    ("ok = isinstance(x, dict[str, int])\n", "dict[...] evaluated at run time"),
    ("merged = base | {'a': 1}\n", "dict | dict"),
    ("merged = dict(a=1) | other\n", "dict | dict"),
    ("base |= {'a': 1}\n", "dict |= dict"),
]


@pytest.mark.parametrize("source, what", CAUGHT, ids=[case[1] for case in CAUGHT])
def test_the_check_catches_what_3_8_cannot_run(source, what):
    findings = newer_than_oldest(source)
    assert len(findings) == 1 and what in findings[0], findings


ALLOWED = [
    "from __future__ import annotations\ndef f(ports: list[int], x: dict[str, int] | None = None) -> tuple[int, ...]:\n"
    "    names: set[str] = set()\n    return ()\n",
    "flags = 0x1 | 0x2\nitems = {'a'} | {'b'}\n",
    "if (n := len(data)) > 10:\n    pass\n",
    "def f(a, /, b):\n    return f'{a=}'\n",
    "@functools.lru_cache(maxsize=None)\ndef f():\n    pass\n",
    "text = 'x'.startswith('y')\nrows = rows[1:]\nentry = table['key']\n",
]


@pytest.mark.parametrize("source", ALLOWED)
def test_the_check_lets_python_3_8_code_pass(source):
    assert newer_than_oldest(source) == []


@pytest.mark.parametrize("relpath", list(target_files()))
def test_code_for_managed_hosts_runs_on_python_3_8(relpath):
    assert newer_than_oldest(read(relpath), relpath) == []


@pytest.mark.parametrize("relpath", [path for path in target_files() if read(path).strip()])
def test_code_for_managed_hosts_postpones_its_annotations(relpath):
    assert postpones_annotations(read(relpath)), "add 'from __future__ import annotations'"


def test_every_module_and_module_util_is_checked():
    files = list(target_files())
    assert "modules/nft_egress.py" in files and "module_utils/nft/codec.py" in files
    assert len(files) > 40
