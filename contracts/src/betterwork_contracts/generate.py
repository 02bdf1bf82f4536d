"""Generate `contracts/events/<type>.json` and `contracts/asyncapi.yaml` from the event models, or check them.

betterwork-contracts            write the files (refuses an incompatible change to a committed schema)
betterwork-contracts --check    exit 1 if a committed file differs from what the models generate, or if
                                a model changed incompatibly with its committed schema
betterwork-contracts --check --against origin/main
                                the same, but compatibility is judged against the schemas at that git
                                revision (what CI should run: a regenerated working tree cannot hide a break)
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from betterwork_contracts.base import IntegrationEvent, Topic
from betterwork_contracts.catalog import EVENTS, TOPICS
from betterwork_contracts.compatibility import check_compatibility

__all__ = [
    "asyncapi_document",
    "check",
    "check_compatibility",
    "compatibility_problems",
    "drift",
    "event_schema",
    "main",
    "render_all",
    "write",
]

CONTRACTS_DIR = Path(__file__).resolve().parents[2]
SCHEMA_BASE_URL = "https://betterwork.dev/contracts/events/"
EVENTS_FOLDER = "events"
ASYNCAPI_FILE = "asyncapi.yaml"

# https://github.com/asyncapi/bindings/tree/master/kafka
KAFKA_BINDING_VERSION = "0.5.0"
# https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md#32-binary-content-mode
CLOUDEVENTS_KAFKA_BINDING = (
    "https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md"
    "#32-binary-content-mode"
)
DEAD_LETTER_MESSAGE = "dead-letter"


# --- JSON Schema of one event type ---------------------------------------------------------------


def event_schema(model: type[IntegrationEvent]) -> dict[str, Any]:
    """The JSON Schema of an event's data (what a consumer may rely on), named by its CloudEvents type."""
    schema = model.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE_URL}{model.type}.json",
        **schema,
        "title": model.type,
        "x-topic": model.topic.name,
        "x-aggregate-id-field": model.aggregate_id_field,
    }


def _schema_path(event_type: str) -> str:
    return f"{EVENTS_FOLDER}/{event_type}.json"


def _json_text(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- AsyncAPI --------------------------------------------------------------------------------------


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0.0: one channel per topic (and per dead-letter topic), who sends and who receives."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}

    for topic in sorted(TOPICS.values(), key=lambda topic: topic.name):
        channel_id = _channel_id(topic.name)
        models = sorted((model for model in EVENTS.values() if model.topic == topic), key=lambda model: model.type)
        for model in models:
            messages[_message_id(model.type)] = _event_message(model)
        consumers = sorted({consumer for model in models for consumer in model.consumers})
        channels[channel_id] = _topic_channel(topic, models, consumers)
        operations[f"{topic.publisher}.publish.{topic.name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "title": f"{topic.publisher} publishes {topic.name}",
            "summary": f"Written by the outbox relay of `{topic.publisher}`, after the change that raised the event "
            "committed.",
            "messages": [_channel_message_ref(channel_id, model.type) for model in models],
            "x-service": topic.publisher,
        }
        for consumer in consumers:
            consumed = [model for model in models if consumer in model.consumers]
            dead_letter_channel_id = f"{channel_id}-dlq-{consumer}"
            channels[dead_letter_channel_id] = _dead_letter_channel(topic, consumer)
            operations[f"{consumer}.consume.{topic.name}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "title": f"{consumer} consumes {topic.name}",
                "summary": f"Consumer group `{consumer}`; each event is applied once (inbox), its offset committed "
                "after the transaction.",
                "messages": [_channel_message_ref(channel_id, model.type) for model in consumed],
                "x-service": consumer,
            }
            operations[f"{consumer}.dead-letter.{topic.name}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{dead_letter_channel_id}"},
                "title": f"{consumer} dead-letters {topic.name}",
                "summary": "Records the consumer cannot process (bad schema, unknown type, rule violation, retries "
                "exhausted).",
                "messages": [{"$ref": f"#/channels/{dead_letter_channel_id}/messages/{DEAD_LETTER_MESSAGE}"}],
                "x-service": consumer,
            }
    messages[DEAD_LETTER_MESSAGE] = _dead_letter_message()

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Better Work integration events",
            "version": metadata.version("betterwork-contracts"),
            "description": (
                "Every integration event of the Better Work platform: its topic, who publishes it and who "
                "consumes it. Generated from the models in `contracts/src/betterwork_contracts` "
                "(`betterwork-contracts`); do not edit by hand.\n\n"
                "Envelope: CloudEvents 1.0 in Kafka binary mode: the attributes are `ce_*` headers, the record value "
                "is the JSON event data (its schema is `events/<type>.json`), the record key is the aggregate id. "
                "A type name ends in its version (`.v1`); a breaking change is a new version published beside the "
                "old one, and a version only ever gains optional fields (full-transitive compatibility).\n\n"
                "Each deployment may prefix every topic and consumer group name (`kafka_topic_prefix`)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "Local development broker (Tansu in the embedded default, or Apache Kafka from "
                "docker-compose). Production uses Apache Kafka (KRaft; Strimzi on Kubernetes).",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _channel_id(topic_name: str) -> str:
    return topic_name.replace(".", "-")


def _message_id(event_type: str) -> str:
    return event_type.removeprefix("org.betterwork.").replace(".", "-")


def _channel_message_ref(channel_id: str, event_type: str) -> dict[str, str]:
    return {"$ref": f"#/channels/{channel_id}/messages/{_message_id(event_type)}"}


def _topic_channel(topic: Topic, models: Sequence[type[IntegrationEvent]], consumers: Sequence[str]) -> dict[str, Any]:
    consumed_by = ", ".join(f"`{consumer}`" for consumer in consumers) or "no service yet"
    return {
        "address": topic.name,
        "title": topic.name,
        "summary": topic.summary,
        "description": f"Published by `{topic.publisher}`; consumed by {consumed_by}. Kafka key: the {topic.key}, "
        "so the events of one aggregate stay in order.",
        "messages": {
            _message_id(model.type): {"$ref": f"#/components/messages/{_message_id(model.type)}"} for model in models
        },
        "bindings": {
            "kafka": {"topic": topic.name, "partitions": topic.partitions, "bindingVersion": KAFKA_BINDING_VERSION},
        },
    }


def _event_message(model: type[IntegrationEvent]) -> dict[str, Any]:
    doc = inspect.cleandoc(model.__doc__ or "")
    message: dict[str, Any] = {
        "name": model.type,
        "title": model.__name__,
    }
    if doc:
        message["summary"] = doc.splitlines()[0]
    message.update(
        {
            "contentType": "application/json",
            "headers": _cloudevents_headers(model),
            "payload": {"$ref": f"./{_schema_path(model.type)}"},
            "correlationId": {
                "description": "CloudEvents extension `correlationid`: shared by everything one original request "
                "caused.",
                "location": "$message.header#/correlationid",
            },
            "bindings": {"kafka": {"key": _kafka_key(model.topic), "bindingVersion": KAFKA_BINDING_VERSION}},
            "x-aggregate-id-field": model.aggregate_id_field,
        }
    )
    return message


def _kafka_key(topic: Topic) -> dict[str, str]:
    return {"type": "string", "description": topic.key}


def _cloudevents_headers(model: type[IntegrationEvent]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes in Kafka binary mode "
        f"({CLOUDEVENTS_KAFKA_BINDING}); every header value is a UTF-8 string.",
        "required": ["ce_id", "ce_source", "ce_specversion", "ce_type", "ce_time", "ce_subject", "content-type"],
        "properties": {
            "ce_id": {
                "type": "string",
                "description": "Unique id of the event; with `ce_source`, what a consumer's inbox deduplicates on.",
            },
            "ce_source": {"type": "string", "const": f"/{model.topic.publisher}", "description": "/<service>."},
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_type": {"type": "string", "const": model.type},
            "ce_time": {"type": "string", "format": "date-time", "description": "When it happened (RFC 3339)."},
            "ce_subject": {
                "type": "string",
                "description": f"The aggregate id (the {model.topic.key}, field `{model.aggregate_id_field}`); "
                "equal to the Kafka key.",
            },
            "content-type": {"type": "string", "const": "application/json"},
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C Trace Context of the change that raised the event.",
            },
            "country": {
                "type": "string",
                "pattern": "^[A-Z]{2}$",
                "description": "CloudEvents extension: ISO 3166-1 alpha-2 code of the country programme.",
            },
            "correlationid": {
                "type": "string",
                "description": "CloudEvents extension: id shared by every request and event one original request "
                "caused.",
            },
        },
    }


def _dead_letter_channel(topic: Topic, consumer: str) -> dict[str, Any]:
    address = f"{topic.name}.dlq.{consumer}"
    return {
        "address": address,
        "title": address,
        "summary": f"Events of `{topic.name}` that consumer group `{consumer}` could not process.",
        "description": f"Written by `{consumer}` when an event fails permanently (bad schema, unknown type, rule "
        "violation) or exhausts its retries; replayed by the dead-letter tool. The topic is named "
        "`<topic>.dlq.<consumer group>`; the consumer group is named after the service.",
        "messages": {DEAD_LETTER_MESSAGE: {"$ref": f"#/components/messages/{DEAD_LETTER_MESSAGE}"}},
        "bindings": {"kafka": {"topic": address, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _dead_letter_message() -> dict[str, Any]:
    def text(description: str) -> dict[str, str]:
        return {"type": "string", "description": description}

    def number(description: str) -> dict[str, str]:
        return {"type": "string", "pattern": "^[0-9]+$", "description": f"{description} (decimal digits)."}

    return {
        "name": DEAD_LETTER_MESSAGE,
        "title": "Dead letter",
        "summary": "The original record, unchanged, plus headers saying why and where it came from.",
        "description": "Key, value and original headers (`ce_*`, `traceparent`, ...) are copied from the failed "
        "record. The value need not match any event schema: a malformed value is one reason to be here.",
        "headers": {
            "type": "object",
            "required": [
                "x-dlq-reason",
                "x-dlq-error",
                "x-dlq-error-type",
                "x-dlq-original-topic",
                "x-dlq-original-partition",
                "x-dlq-original-offset",
                "x-dlq-group",
                "x-dlq-attempts",
                "x-dlq-at",
            ],
            "properties": {
                "x-dlq-reason": text(
                    "Category: invalid-envelope, unknown-type, unexpected-source, implausible, schema-invalid,"
                    " rule-violated, not-yet-known or handler-failed."
                ),
                "x-dlq-error": text("What went wrong, in words (the error message)."),
                "x-dlq-error-type": text("The kind of error (the exception class)."),
                "x-dlq-original-topic": text("Topic the record was read from."),
                "x-dlq-original-partition": number("Partition the record was read from"),
                "x-dlq-original-offset": number("Offset of the record in that partition"),
                "x-dlq-group": text("Consumer group that gave up on the record."),
                "x-dlq-attempts": number("How many times the consumer tried"),
                "x-dlq-at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the record was dead-lettered (RFC 3339).",
                },
            },
        },
        "payload": {"description": "The original record value, byte for byte."},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "the original record's key"},
                "bindingVersion": KAFKA_BINDING_VERSION,
            },
        },
    }


class _PlainDumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML has no type stubs here
    """No `&anchors`/`*aliases`: the document stays readable by tools that resolve only `$ref`."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_text(dumper: _PlainDumper, text: str) -> Any:
    """Multi-line descriptions as `|` blocks, so paragraphs read as written."""
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_PlainDumper.add_representer(str, _represent_text)


def _yaml_text(document: Mapping[str, Any]) -> str:
    text: str = yaml.dump(document, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=120)
    return text


# --- files -----------------------------------------------------------------------------------------


def render_all() -> dict[str, str]:
    """Every generated file: path relative to the contracts folder -> text."""
    files = {_schema_path(event_type): _json_text(event_schema(EVENTS[event_type])) for event_type in sorted(EVENTS)}
    files[ASYNCAPI_FILE] = "# Generated by `betterwork-contracts` from the event models: do not edit.\n" + _yaml_text(
        asyncapi_document()
    )
    return files


def _event_files_on_disk(root: Path) -> dict[str, str]:
    return {
        f"{EVENTS_FOLDER}/{path.name}": path.read_text(encoding="utf-8")
        for path in sorted((root / EVENTS_FOLDER).glob("*.json"))
    }


def _event_files_at(root: Path, revision: str) -> dict[str, str]:
    """The committed `events/*.json` at a git revision (`origin/main`), read without touching the working tree."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], check=True, capture_output=True, text=True, encoding="utf-8"
        ).stdout

    names = git("ls-tree", "--name-only", revision, f"{EVENTS_FOLDER}/").splitlines()
    return {
        f"{EVENTS_FOLDER}/{Path(name).name}": git("show", f"{revision}:./{EVENTS_FOLDER}/{Path(name).name}")
        for name in names
        if name.endswith(".json")
    }


def compatibility_problems(committed: Mapping[str, str], generated: Mapping[str, str]) -> list[str]:
    """Compare committed schemas with the generated ones of the same type (a new `.vN` is a new file)."""
    problems: list[str] = []
    for path in sorted(committed):
        event_type = Path(path).name.removesuffix(".json")
        if path not in generated:
            problems.append(
                f"{path}: event type {event_type} is no longer in the catalog. Removing a published event type is "
                "not allowed while its schema file is committed: keep the model (publish a new version beside it), "
                "or delete the file deliberately once every consumer has moved on."
            )
            continue
        try:
            old_schema = json.loads(committed[path])
        except json.JSONDecodeError as error:
            problems.append(f"{path}: the committed schema is not valid JSON ({error})")
            continue
        problems.extend(
            f"{path}: incompatible change: {problem}"
            for problem in check_compatibility(old_schema, json.loads(generated[path]))
        )
    return problems


def check(root: Path = CONTRACTS_DIR, *, against: str | None = None) -> list[str]:
    """Everything wrong with the committed contracts under `root`; empty when they are up to date and compatible."""
    generated = render_all()
    return drift(root, generated) + compatibility_problems(_committed_event_files(root, against), generated)


def _committed_event_files(root: Path, against: str | None) -> dict[str, str]:
    return _event_files_on_disk(root) if against is None else _event_files_at(root, against)


def drift(root: Path, generated: Mapping[str, str]) -> list[str]:
    """Generated files whose committed copy under `root` is missing or different."""
    problems = []
    for path, text in generated.items():
        target = root / path
        if not target.is_file():
            problems.append(f"{path} is missing")
        elif target.read_text(encoding="utf-8") != text:
            problems.append(f"{path} differs from what the models generate")
    return problems


def write(root: Path = CONTRACTS_DIR) -> tuple[list[str], list[str]]:
    """Write the generated files under `root`: (paths written, problems). Writes nothing if a change is incompatible."""
    generated = render_all()
    problems = compatibility_problems(_event_files_on_disk(root), generated)
    if problems:
        return [], problems
    written = []
    for path, text in generated.items():
        target = root / path
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(path)
    return written, []


_ADVICE = (
    "Event schemas are fully compatible across a type's versions: only add optional fields with a default. "
    "To change or remove a field, add a model with the next type version (`.vN+1`) and publish both."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="betterwork-contracts", description="Generate or check contracts/events/*.json and asyncapi.yaml."
    )
    parser.add_argument("command", nargs="?", choices=("write", "check"), default="write")
    parser.add_argument("--check", action="store_true", help="same as the `check` command: change nothing")
    parser.add_argument(
        "--against",
        metavar="GIT_REVISION",
        help="with --check: judge compatibility against the schemas committed at this revision (CI: origin/main)",
    )
    parser.add_argument("--root", type=Path, default=CONTRACTS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.check or args.command == "check":
        generated = render_all()
        try:
            committed = _committed_event_files(args.root, args.against)
        except subprocess.CalledProcessError as error:
            print(f"cannot read the schemas at {args.against}: {error.stderr.strip()}", file=sys.stderr)
            return 2
        drifted = drift(args.root, generated)
        incompatible = compatibility_problems(committed, generated)
        if drifted:
            print("Contracts differ from what the models generate:", file=sys.stderr)
            print("".join(f"  - {problem}\n" for problem in drifted), end="", file=sys.stderr)
            print("Run `make contracts` (betterwork-contracts) and commit the result.", file=sys.stderr)
        if incompatible:
            print("Models changed incompatibly with the committed schemas:", file=sys.stderr)
            print("".join(f"  - {problem}\n" for problem in incompatible), end="", file=sys.stderr)
            print(_ADVICE, file=sys.stderr)
        if drifted or incompatible:
            return 1
        print("contracts are up to date and compatible")
        return 0

    if args.against is not None:
        parser.error("--against only applies to --check")
    written, problems = write(args.root)
    if problems:
        print("Nothing written: the models changed incompatibly with the committed schemas:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print(_ADVICE, file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("contracts are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
