"""Render each role's README.md from its meta/argument_specs.yml, the one source of truth.

  python3 tools/role_docs.py          rewrite the READMEs
  python3 tools/role_docs.py --check  exit 1 when a README is out of date (run by the lint stage)
"""

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


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


def render(role, specs):
    main = specs["argument_specs"]["main"]
    lines = [f"# dlegate.rtc.{role}", "", as_text(main["short_description"]), ""]
    lines += [f"- {as_text(line)}" for line in (main.get("description") or [])]
    lines += ["", "## Variables", "", "| variable | type | default | description |", "|---|---|---|---|"]
    lines += [option_row(name, spec) for name, spec in sorted(main["options"].items())]
    lines += ["", f"Generated from `meta/argument_specs.yml` by `tools/role_docs.py`; "
              f"`ansible-doc -t role dlegate.rtc.{role}` shows the same.", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for spec_file in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        role_dir = spec_file.parents[1]
        text = render(role_dir.name, yaml.safe_load(spec_file.read_text()))
        readme = role_dir / "README.md"
        if readme.exists() and readme.read_text() == text:
            continue
        stale.append(readme.relative_to(ROOT))
        if not args.check:
            readme.write_text(text)
    for path in stale:
        print(f"{'out of date' if args.check else 'rewrote'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
