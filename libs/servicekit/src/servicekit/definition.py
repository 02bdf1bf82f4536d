"""What the platform needs to know about a service: how to configure, migrate and start it.

Each service exposes one `ServiceDefinition` under the `betterwork.services`
entry point group; the launcher, the migration runner and the CLI find them there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from servicekit.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    title: str
    summary: str
    settings_cls: type[ServiceSettings]
    create_app: Callable[..., FastAPI]
    migrations_dir: Path

    @property
    def env_prefix(self) -> str:
        return str(self.settings_cls.model_config.get("env_prefix", ""))

    def settings(self, **overrides: object) -> ServiceSettings:
        return self.settings_cls(**overrides)  # type: ignore[arg-type]


SERVICE_ORDER = ("registry", "assessments", "advisory", "partnerships", "invoicing", "transparency")


def load_services() -> dict[str, ServiceDefinition]:
    """All installed services, in platform order."""
    found = {ep.name: ep.load() for ep in entry_points(group="betterwork.services")}
    for name, definition in found.items():
        if not isinstance(definition, ServiceDefinition) or definition.name != name:
            raise RuntimeError(f"entry point {name!r} does not point at its ServiceDefinition")
    ordered = [n for n in SERVICE_ORDER if n in found] + sorted(set(found) - set(SERVICE_ORDER))
    return {n: found[n] for n in ordered}
