"""Regenerate platform_lib/policy/data/taggable_types.json from the installed provider SDKs.

A resource type is taggable when its SDK class takes a ``tags`` argument (AWS) or a ``labels``
argument (GCP). The SDKs are read as text (importing them all would take minutes).
Run: python scripts/generate_taggable_types.py
"""

from __future__ import annotations

import json
import re
from importlib.util import find_spec
from pathlib import Path

TOKEN = re.compile(r"super\(\w+, __self__\).__init__\(\s*'([a-z0-9-]+:[^']+)'")


def scan(package: str, argument: str) -> list[str]:
    """Sorted type tokens of the resource classes in ``package`` whose constructor sets ``argument``."""
    root = Path(find_spec(package).origin).parent
    found = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if f'__props__.__dict__["{argument}"] = {argument}' not in text:
            continue
        found.update(m.group(1) for m in TOKEN.finditer(text))
    return sorted(found)


def main() -> None:
    """Write the JSON file ({"source", "aws": [tokens], "gcp": [tokens]}) and print the counts."""
    from importlib.metadata import version

    data = {
        "source": f"pulumi-aws {version('pulumi-aws')} and pulumi-gcp {version('pulumi-gcp')} SDK resource classes",
        "aws": scan("pulumi_aws", "tags"),
        "gcp": scan("pulumi_gcp", "labels"),
    }
    out = Path(__file__).resolve().parents[1] / "platform_lib" / "policy" / "data" / "taggable_types.json"
    out.write_text(json.dumps(data, indent=0) + "\n", encoding="utf-8")
    print(f"{out}: {len(data['aws'])} AWS, {len(data['gcp'])} GCP types")


if __name__ == "__main__":
    main()
