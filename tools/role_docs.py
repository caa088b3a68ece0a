"""Render each role's documentation from its meta/argument_specs.yml, the one source of truth.

  python3 tools/role_docs.py          rewrite what is out of date
  python3 tools/role_docs.py --check  exit 1 when anything is out of date (run by the lint stage)

Two outputs per role:
  roles/ROLE/README.md  only the block between the BEGIN and END markers is generated;
                        hand-written prose before and after it is kept as it is
  docs/roles/ROLE.md    the role's reference page, generated as a whole
"""

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- BEGIN generated from meta/argument_specs.yml by tools/role_docs.py: edit the spec, not this block -->"
END = "<!-- END generated -->"
MARKER = re.compile(r"^<!-- (BEGIN|END) generated\b.*-->$", re.MULTILINE)
# The last line of a README of the earlier form, generated as a whole without markers.
LEGACY_FOOTER = re.compile(r"^Generated from `meta/argument_specs.yml` by `tools/role_docs.py`;.*$", re.MULTILINE)


class BlockError(ValueError):
    """A README whose generated block cannot be found unambiguously."""


def as_text(value):
    """Join description lines and turn Ansible's C(), I() and B() markup into Markdown code."""
    text = " ".join(value) if isinstance(value, list) else str(value or "")
    return re.sub(r"\b[CIB]\(([^)]*)\)", r"`\1`", text)


def option_row(name, spec):
    kind = spec.get("type", "str")
    if spec.get("elements"):
        kind += f" of {spec['elements']}"
    choices = f" One of: {', '.join(map(str, spec['choices']))}." if spec.get("choices") else ""
    default = yaml.safe_dump(spec.get("default"), default_flow_style=True, width=1000).strip()
    default = default.removesuffix("\n...").removesuffix("...").strip()
    return f"| `{name}` | {kind} | `{default}` | {as_text(spec.get('description'))}{choices} |"


def role_reference(role, specs):
    """The lines both outputs share: what the role does and its variables."""
    main = specs["argument_specs"]["main"]
    lines = [as_text(main["short_description"]), ""]
    lines += [f"- {as_text(line)}" for line in (main.get("description") or [])]
    lines += ["", "## Variables", "", "| variable | type | default | description |", "|---|---|---|---|"]
    lines += [option_row(name, spec) for name, spec in sorted(main["options"].items())]
    return lines


def generated_block(role, specs):
    footer = (f"Generated from `meta/argument_specs.yml` by `tools/role_docs.py`; "
              f"`ansible-doc -t role dlegate.rtc.{role}` shows the same.")
    return "\n".join([BEGIN] + role_reference(role, specs) + ["", footer, END])


def render_readme(role, specs, current=None):
    """The README with its generated block rewritten and everything outside the block kept.

    A new README gets a title and the block. One without markers keeps its text and gets the
    block appended, except that a README of the earlier, wholly generated form is replaced
    up to its footer line."""
    block = generated_block(role, specs)
    fresh = f"# dlegate.rtc.{role}\n\n{block}\n"
    if current is None:
        return fresh
    markers = list(MARKER.finditer(current))
    if not markers:
        legacy_end = LEGACY_FOOTER.search(current)
        if legacy_end:
            rest = current[legacy_end.end():].strip()
            return fresh + (f"\n{rest}\n" if rest else "")
        return f"{current.rstrip()}\n\n{block}\n"
    kinds = [match.group(1) for match in markers]
    if kinds != ["BEGIN", "END"]:
        raise BlockError(f"expected one BEGIN and then one END marker of the generated block, found {kinds}")
    begin, end = markers
    return current[:begin.start()] + block + current[end.end():]


def render_page(role, specs):
    """The role's reference page in docs/roles/, generated as a whole."""
    lines = [f"# Role dlegate.rtc.{role}", ""] + role_reference(role, specs)
    lines += ["", f"Generated from `roles/{role}/meta/argument_specs.yml` by `tools/role_docs.py`; do not edit. "
              f"Examples and notes are in the role's [README](../../roles/{role}/README.md); "
              f"`ansible-doc -t role dlegate.rtc.{role}` shows the same.", ""]
    return "\n".join(lines)


def expected_files(root):
    """Path to the text it should hold, for every generated file; None for a page to delete."""
    expected = {}
    roles = set()
    for spec_file in sorted(root.glob("roles/*/meta/argument_specs.yml")):
        role = spec_file.parents[1].name
        roles.add(role)
        specs = yaml.safe_load(spec_file.read_text())
        readme = spec_file.parents[1] / "README.md"
        try:
            expected[readme] = render_readme(role, specs, readme.read_text() if readme.exists() else None)
        except BlockError as error:
            raise BlockError(f"{readme.relative_to(root)}: {error}") from None
        expected[root / "docs" / "roles" / f"{role}.md"] = render_page(role, specs)
    for page in sorted((root / "docs" / "roles").glob("*.md")):
        if page.stem not in roles:
            expected[page] = None
    return expected


def stale_files(expected):
    def current(path):
        return path.read_text() if path.exists() else None
    return [path for path, text in expected.items() if current(path) != text]


def write(path, text):
    if text is None:
        path.unlink()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main(argv=None, root=ROOT):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report what is out of date, change nothing")
    args = parser.parse_args(argv)
    try:
        expected = expected_files(root)
    except BlockError as error:
        print(f"role_docs: {error}")
        return 1
    stale = stale_files(expected)
    for path in stale:
        if args.check:
            print(f"out of date: {path.relative_to(root)}")
        else:
            write(path, expected[path])
            print(f"{'removed' if expected[path] is None else 'rewrote'}: {path.relative_to(root)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
