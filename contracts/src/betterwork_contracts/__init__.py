"""The platform's integration events: the source of truth for what crosses service boundaries.

Every event type is a pydantic model subclassing `IntegrationEvent`, named by
its CloudEvents type `org.betterwork.<service>.<aggregate>.<event>.v<N>`, and
published on one topic (`<service>.<aggregate>`) keyed by its aggregate id.
`contracts/events/*.json` and `contracts/asyncapi.yaml` are generated from
these models (`make contracts`); tests fail when they drift or when a change is
not compatible with what was committed.
"""

from betterwork_contracts.base import IntegrationEvent, Topic
from betterwork_contracts.catalog import EVENTS, TOPICS, event_class

__all__ = ["EVENTS", "TOPICS", "IntegrationEvent", "Topic", "event_class"]
