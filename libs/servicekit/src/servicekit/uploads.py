"""Documents uploaded by clients, read without letting a small upload grow into a large one.

YAML aliases (`*a`) repeat a node by reference: nine levels of nine aliases make a 577-byte upload expand
into hundreds of megabytes once it is turned into Python objects or JSON ("billion laughs"). Nothing an
upload carries here needs them, so a document using an alias is refused before anything is built from it.
"""

from __future__ import annotations

from typing import Any

import yaml

from servicekit.errors import Unprocessable


class _NoAliasLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    """`SafeLoader` that stops at the first alias instead of expanding it."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise Unprocessable(
                f"YAML aliases (*{event.anchor}) are not accepted in uploads "
                f"(line {event.start_mark.line + 1}); write the value out."
            )
        return super().compose_node(parent, index)


def load_yaml_upload(text: str) -> Any:
    """Parse an uploaded YAML document like `yaml.safe_load`, refusing aliases with 422."""
    return yaml.load(text, Loader=_NoAliasLoader)
