"""docs/config.md cannot drift from the code: its reference tables are the schema's own
rendering, every key appears, its example loads, and every field of the typed
architecture is either a YAML key or derived from one."""

from __future__ import annotations

import dataclasses
import re

from accelsim.arch import (
    Architecture,
    ComputeSpec,
    DramSpec,
    Fanout,
    StorageLevel,
    load_architecture,
)
from accelsim.arch.loader import architecture_from_yaml
from accelsim.arch.schema import (
    COMPUTE,
    DRAM,
    FANOUT,
    LEVEL,
    SECTIONS,
    TOP,
    schema_markdown,
)
from accelsim.config.yaml_loader import parse_yaml
from accelsim.energy import PRESET_NAMES
from tests.conftest import REPO

DOC = (REPO / "docs" / "config.md").read_text()


def test_reference_section_is_the_generated_schema():
    generated = DOC.split("<!-- schema:begin -->")[1].split("<!-- schema:end -->")[0]
    assert generated.strip() == schema_markdown().strip(), (
        "docs/config.md is out of date: paste the output of python -c \"from "
        "accelsim.arch.schema import schema_markdown; print(schema_markdown())\" between "
        "its schema markers")


def test_every_schema_key_is_documented():
    for section in SECTIONS:
        assert f"### `{section.title}`" in DOC
        for item in section.fields:
            assert f"| `{item.name}` |" in DOC, (section.title, item.name)


def test_every_preset_is_documented():
    for name in PRESET_NAMES:
        assert f"| `{name}` |" in DOC


# Fields of the typed values and the YAML key each comes from; fields that no key gives
# are listed with where they come from instead.
DERIVED = {
    (StorageLevel, "is_dram"): "true for the `dram` section",
    (Architecture, "levels"): "`dram` then `levels`",
    (Architecture, "source"): "the file loaded",
}
SECTION_OF = {StorageLevel: (LEVEL, DRAM), DramSpec: (DRAM,), ComputeSpec: (COMPUTE,),
              Fanout: (FANOUT,), Architecture: (TOP,)}


def test_every_dataclass_field_has_a_key_or_a_documented_origin():
    for cls, sections in SECTION_OF.items():
        keys = {item.name for section in sections for item in section.fields}
        for item in dataclasses.fields(cls):
            assert item.name in keys or (cls, item.name) in DERIVED, (cls.__name__, item.name)


def test_the_documented_example_is_the_bundled_eyeriss_like():
    example = re.search(r"```yaml\n(version: 1\n.*?)```", DOC, re.S)[1]
    documented = architecture_from_yaml(parse_yaml(example, "docs/config.md"), "docs/config.md")
    bundled = load_architecture("eyeriss_like")
    assert dataclasses.replace(documented, source=None) == \
        dataclasses.replace(bundled, source=None)


def test_the_documented_energy_example_loads():
    example = re.search(r"```yaml\n(energy:\n  preset: eyeriss_65nm .*?)```", DOC, re.S)[1]
    bundled = (REPO / "hw_configs" / "eyeriss_like.yaml").read_text()
    text = bundled.split("energy:\n")[0] + example
    arch = architecture_from_yaml(parse_yaml(text, "doc.yaml"), "doc.yaml")
    assert arch.energy.name == "eyeriss_65nm+custom"
    assert arch.energy.component("psum_spad").block_words == 1
