"""Read the CloudFormation template as data: short-form intrinsics (!Ref, !Sub, …) become their long form."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "infrastructure" / "cloudformation.yaml"


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Dict[str, Any]:
    value = (loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else
             loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode) else
             loader.construct_mapping(node, deep=True))
    return {("Ref" if suffix == "Ref" else f"Fn::{suffix}"): value}


_Loader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE_PATH) -> Dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
