"""tools/role_docs.py renders the generated block of each role's README and its reference page,
keeps the hand-written prose around the block, and detects what is out of date."""

import importlib.util
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]


def load_role_docs():
    spec = importlib.util.spec_from_file_location("rtc_role_docs", REPO / "tools" / "role_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


role_docs = load_role_docs()

SPECS = {
    "argument_specs": {
        "main": {
            "short_description": "Do one thing well.",
            "description": ["Reads I(demo_port) and nothing else."],
            "options": {
                "demo_port": {"type": "int", "default": 443, "description": "The port, as C(NUMBER)."},
                "demo_mode": {"type": "str", "choices": ["a", "b"], "default": "a", "description": "The mode."},
                "demo_names": {"type": "list", "elements": "str", "default": [], "description": ["Names,", "one each."]},
            },
        }
    }
}

PROSE_BEFORE = "# dlegate.rtc.demo\n\nWritten by hand, before the block.\n\n"
PROSE_AFTER = "\n\n## Example\n\nWritten by hand, after the block: `demo_port: 8443`.\n"


def make_role(root, specs=None, readme=None):
    meta = root / "roles" / "demo" / "meta"
    meta.mkdir(parents=True)
    (meta / "argument_specs.yml").write_text(yaml.safe_dump(SPECS if specs is None else specs))
    if readme is not None:
        (root / "roles" / "demo" / "README.md").write_text(readme)
    return root / "roles" / "demo" / "README.md"


def with_option(specs, name, option):
    changed = yaml.safe_load(yaml.safe_dump(specs))
    changed["argument_specs"]["main"]["options"][name] = option
    return changed


def test_block_holds_the_description_and_one_sorted_row_per_option():
    block = role_docs.generated_block("demo", SPECS)
    lines = block.splitlines()
    assert lines[0] == role_docs.BEGIN and lines[-1] == role_docs.END
    assert "Do one thing well." in lines
    assert "- Reads `demo_port` and nothing else." in lines
    rows = [line for line in lines if line.startswith("| `")]
    assert rows == [
        "| `demo_mode` | str | `a` | The mode. One of: a, b. |",
        "| `demo_names` | list of str | `[]` | Names, one each. |",
        "| `demo_port` | int | `443` | The port, as `NUMBER`. |",
    ]


def test_new_readme_gets_a_title_and_the_block():
    text = role_docs.render_readme("demo", SPECS)
    assert text == f"# dlegate.rtc.demo\n\n{role_docs.generated_block('demo', SPECS)}\n"


def test_prose_before_and_after_the_block_survives_a_new_spec():
    old = PROSE_BEFORE + role_docs.generated_block("demo", SPECS) + PROSE_AFTER
    new_specs = with_option(SPECS, "demo_extra", {"type": "bool", "default": True, "description": "New."})
    text = role_docs.render_readme("demo", new_specs, old)
    assert text.startswith(PROSE_BEFORE)
    assert text.endswith(PROSE_AFTER)
    assert "| `demo_extra` | bool | `true` | New. |" in text
    assert text.count(role_docs.BEGIN) == 1


def test_hand_edits_inside_the_block_are_overwritten():
    block = role_docs.generated_block("demo", SPECS)
    edited = PROSE_BEFORE + block.replace("The mode.", "A hand-edited mode.") + PROSE_AFTER
    assert role_docs.render_readme("demo", SPECS, edited) == PROSE_BEFORE + block + PROSE_AFTER


def test_readme_without_markers_keeps_its_text_and_gets_the_block_appended():
    text = role_docs.render_readme("demo", SPECS, "# Demo\n\nOnly prose.\n")
    assert text == f"# Demo\n\nOnly prose.\n\n{role_docs.generated_block('demo', SPECS)}\n"


def test_readme_of_the_earlier_wholly_generated_form_is_replaced_up_to_its_footer():
    legacy = ("# dlegate.rtc.demo\n\nOld text.\n\nGenerated from `meta/argument_specs.yml` by "
              "`tools/role_docs.py`; `ansible-doc -t role dlegate.rtc.demo` shows the same.\n")
    assert role_docs.render_readme("demo", SPECS, legacy + "\nKept.\n") == (
        role_docs.render_readme("demo", SPECS) + "\nKept.\n")
    assert "Old text." not in role_docs.render_readme("demo", SPECS, legacy)


@pytest.mark.parametrize("markers", [
    [role_docs.END, role_docs.BEGIN],
    [role_docs.BEGIN],
    [role_docs.BEGIN, role_docs.END, role_docs.BEGIN, role_docs.END],
])
def test_misplaced_markers_are_refused(markers):
    with pytest.raises(role_docs.BlockError, match="BEGIN and then one END"):
        role_docs.render_readme("demo", SPECS, "\n".join(["# Demo"] + markers) + "\n")


def test_reference_page_has_the_description_and_the_same_table():
    page = role_docs.render_page("demo", SPECS)
    assert page.startswith("# Role dlegate.rtc.demo\n\nDo one thing well.\n")
    table = [line for line in role_docs.generated_block("demo", SPECS).splitlines() if line.startswith("|")]
    assert [line for line in page.splitlines() if line.startswith("|")] == table
    assert "roles/demo/README.md" in page


def test_check_finds_a_new_role_out_of_date_and_a_run_brings_it_up_to_date(tmp_path, capsys):
    readme = make_role(tmp_path)
    assert role_docs.main(["--check"], root=tmp_path) == 1
    assert not readme.exists()
    assert set(capsys.readouterr().out.split("\n")) >= {
        "out of date: roles/demo/README.md", "out of date: docs/roles/demo.md"}
    assert role_docs.main([], root=tmp_path) == 0
    assert role_docs.main(["--check"], root=tmp_path) == 0
    assert (tmp_path / "docs" / "roles" / "demo.md").read_text() == role_docs.render_page("demo", SPECS)


def test_check_detects_a_spec_change_and_the_rewrite_keeps_the_prose(tmp_path, capsys):
    readme = make_role(tmp_path, readme=PROSE_BEFORE + role_docs.generated_block("demo", SPECS) + PROSE_AFTER)
    role_docs.main([], root=tmp_path)
    assert role_docs.main(["--check"], root=tmp_path) == 0
    spec_file = tmp_path / "roles" / "demo" / "meta" / "argument_specs.yml"
    spec_file.write_text(yaml.safe_dump(with_option(SPECS, "demo_port", {"type": "int", "default": 8443})))
    capsys.readouterr()
    assert role_docs.main(["--check"], root=tmp_path) == 1
    assert capsys.readouterr().out.splitlines() == [
        "out of date: roles/demo/README.md", "out of date: docs/roles/demo.md"]
    role_docs.main([], root=tmp_path)
    text = readme.read_text()
    assert text.startswith(PROSE_BEFORE) and text.endswith(PROSE_AFTER)
    assert "| `demo_port` | int | `8443` |" in text
    assert role_docs.main(["--check"], root=tmp_path) == 0


def test_check_detects_a_hand_edited_reference_page(tmp_path):
    make_role(tmp_path)
    role_docs.main([], root=tmp_path)
    page = tmp_path / "docs" / "roles" / "demo.md"
    page.write_text(page.read_text() + "A hand edit.\n")
    assert role_docs.main(["--check"], root=tmp_path) == 1


def test_page_of_a_removed_role_is_out_of_date_and_deleted(tmp_path, capsys):
    make_role(tmp_path)
    role_docs.main([], root=tmp_path)
    orphan = tmp_path / "docs" / "roles" / "gone.md"
    orphan.write_text("# Role dlegate.rtc.gone\n")
    assert role_docs.main(["--check"], root=tmp_path) == 1
    assert orphan.exists()
    role_docs.main([], root=tmp_path)
    assert not orphan.exists()
    assert "removed: docs/roles/gone.md" in capsys.readouterr().out


def test_broken_markers_fail_the_check_naming_the_file(tmp_path, capsys):
    make_role(tmp_path, readme=f"# Demo\n{role_docs.BEGIN}\n")
    assert role_docs.main(["--check"], root=tmp_path) == 1
    assert "roles/demo/README.md" in capsys.readouterr().out
