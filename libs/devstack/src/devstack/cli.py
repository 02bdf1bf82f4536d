"""The `betterwork` command: run the platform, mint local tokens, migrate, export contracts."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from devstack.launcher import AlreadyRunning, Platform, state_dir_from_env
from devstack.provision import create_database, provision
from messaging.dlq import DLQ_MARKER, DeadLetter, dead_letter_topics, read_dead_letters, replay
from servicekit.auth.local_issuer import LOCAL_AUDIENCE, LOCAL_ISSUER, LocalSigningKey
from servicekit.auth.principal import Role
from servicekit.definition import load_services
from servicekit.kafka_security import KafkaSecurity
from servicekit.migrations import upgrade
from servicekit.settings import asyncpg_url

app = typer.Typer(help="Better Work platform tools.", no_args_is_help=True, add_completion=False)


@app.command()
def run() -> None:
    """Start the whole platform (Postgres, broker, migrations, six services) until Ctrl-C."""
    platform = Platform(state_dir=state_dir_from_env(), env=dict(os.environ))
    try:
        code = platform.run()
    except AlreadyRunning as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(3) from None
    raise typer.Exit(code)


@app.command()
def token(
    role: Annotated[list[Role], typer.Option("--role", help="Role(s) the token carries; repeat for several.")],
    org: Annotated[str | None, typer.Option("--org", help="Organisation id: the factory id or buyer id.")] = None,
    country: Annotated[str | None, typer.Option("--country", help="ISO 3166-1 alpha-2 country, e.g. KH.")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Subject (user or client id).")] = None,
    scope: Annotated[list[str] | None, typer.Option("--scope", help="Scope to grant; repeat for several.")] = None,
    ttl: Annotated[int, typer.Option("--ttl", min=60, max=86400 * 30, help="Lifetime in seconds.")] = 3600,
) -> None:
    """Print a token that locally started services accept (signed with the local key)."""
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise typer.BadParameter("use an ISO 3166-1 alpha-2 code such as KH", param_hint="--country")
    key = LocalSigningKey.load_or_create(state_dir_from_env() / "keys")
    typer.echo(
        key.mint(
            roles=role,
            subject=subject,
            organisation_id=org,
            country=country,
            scopes=scope or (),
            issuer=os.environ.get("AUTH_ISSUER", LOCAL_ISSUER),
            audience=os.environ.get("AUTH_AUDIENCE", LOCAL_AUDIENCE),
            ttl_s=ttl,
        )
    )


@app.command()
def migrate(
    services: Annotated[list[str] | None, typer.Argument(help="Services to migrate (default: all).")] = None,
) -> None:
    """Create the database, roles and schemas if missing, then upgrade each service to its latest migration."""
    definitions = load_services()
    unknown = set(services or ()) - set(definitions)
    if unknown:
        raise typer.BadParameter(f"unknown service(s): {', '.join(sorted(unknown))}")
    chosen = [definitions[n] for n in (services or definitions)]
    settings = [d.settings() for d in chosen]
    admin = asyncpg_url(settings[0].database_url)
    asyncio.run(create_database(admin))
    asyncio.run(provision(admin, settings))
    for definition, s in zip(chosen, settings, strict=True):
        upgrade(definition, s)
        typer.echo(f"migrated {definition.name}")


@app.command()
def serve(service: Annotated[str, typer.Argument(help="Service to run in the foreground.")]) -> None:
    """Run one service under uvicorn (its settings come from the environment)."""
    from servicekit.serve import serve as serve_one

    serve_one(service)


@app.command("services")
def list_services() -> None:
    """List the installed services, their ports and environment prefixes."""
    for definition in load_services().values():
        s = definition.settings()
        typer.echo(f"{definition.name:<13} port {s.port:<5} prefix {definition.env_prefix:<14} {definition.summary}")


@app.command()
def openapi(
    out: Annotated[Path, typer.Option(help="Folder for <service>.json.")] = Path("contracts/openapi"),
    check: Annotated[bool, typer.Option("--check", help="Fail if the committed files differ.")] = False,
) -> None:
    """Export each service's OpenAPI document (the committed copies are checked in CI)."""
    drift = []
    out.mkdir(parents=True, exist_ok=True)
    for name, text in export_openapi().items():
        target = out / f"{name}.json"
        if check:
            if not target.exists() or target.read_text() != text:
                drift.append(name)
        else:
            target.write_text(text)
            typer.echo(f"wrote {target}")
    if drift:
        typer.echo(f"OpenAPI drift in: {', '.join(drift)}; run `betterwork openapi`", err=True)
        raise typer.Exit(1)


def _local_base_urls() -> dict[str, str]:
    """Where `betterwork run` serves each service with this environment (`<SERVICE>_PORT`, `<SERVICE>_HOST`)."""
    urls = {}
    for name, definition in load_services().items():
        s = definition.settings()
        host = "127.0.0.1" if s.host in ("0.0.0.0", "::") else s.host
        urls[name] = f"http://{host}:{s.port}"
    return urls


@app.command()
def demo(
    factories: Annotated[int, typer.Option("--factories", min=3, max=5000, help="How many factories.")] = 300,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same programme (names, findings, dates).")] = 2026,
    base_url: Annotated[
        list[str] | None,
        typer.Option("--base-url", help="SERVICE=URL, repeatable (default: where `make run` serves each service)."),
    ] = None,
    wait: Annotated[
        float, typer.Option("--wait", min=1, help="Seconds to wait for an event to reach the service that needs it.")
    ] = 120,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64, help="Factories loaded at once.")] = 6,
) -> None:
    """Load a Cambodian country programme into the running platform through its public APIs (`make demo`):
    factories, buyers, a year of assessments, a zero-tolerance case, improvement plans and progress reports,
    trainings, invoices and credits, and a publication; then print where to look. Tokens are signed with the
    local key, as `betterwork token` does."""
    from rich.console import Console

    from devstack.demo import Callers, DemoFailed, load_demo, where_to_look

    urls = _local_base_urls()
    for entry in base_url or ():
        name, sep, url = entry.partition("=")
        if not sep or name not in urls or not url.startswith(("http://", "https://")):
            raise typer.BadParameter(f"use SERVICE=URL with one of {', '.join(urls)}", param_hint="--base-url")
        urls[name] = url
    callers = Callers(
        LocalSigningKey.load_or_create(state_dir_from_env() / "keys"),
        issuer=os.environ.get("AUTH_ISSUER", LOCAL_ISSUER),
        audience=os.environ.get("AUTH_AUDIENCE", LOCAL_AUDIENCE),
    )
    console = Console(highlight=False, width=max(Console().width, 120))
    try:
        result = asyncio.run(
            load_demo(
                factories=factories,
                seed=seed,
                base_urls=urls,
                callers=callers,
                console=console,
                wait_s=wait,
                concurrency=concurrency,
            )
        )
    except DemoFailed as exc:
        console.print(f"[red]The demo stopped:[/] {exc}")
        raise typer.Exit(1) from None
    where_to_look(result, urls, console=console, betterwork=".venv/bin/betterwork")


import_app = typer.Typer(help="Bulk lists: upload them to a running service.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("factories")
def import_factories(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The list, as CSV.")],
    url: Annotated[
        str, typer.Option("--url", envvar="REGISTRY_URL", help="Registry base URL.")
    ] = "http://127.0.0.1:8001",
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="BETTERWORK_TOKEN", help="Bearer token (default: a local staff token)."),
    ] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="Country of rows that leave it blank; also the local token's.")
    ] = None,
    results: Annotated[
        Path | None, typer.Option("--results", help="Where to save per-row results (default: FILE.results.csv).")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the import until it is done.")] = True,
) -> None:
    """Upload a factory list (columns country, name, address; optional sector, workers, os_id,
    external_reference, ...), show progress, print a summary and save the per-row results."""
    from devstack.importer import ImportFailed
    from devstack.importer import import_factories as run_import

    if token is None:
        if country is None:
            raise typer.BadParameter("give --country (for the local staff token) or --token", param_hint="--country")
        key = LocalSigningKey.load_or_create(state_dir_from_env() / "keys")
        token = key.mint(
            roles=[Role.STAFF],
            subject="cli-import",
            country=country.upper(),
            issuer=os.environ.get("AUTH_ISSUER", LOCAL_ISSUER),
            audience=os.environ.get("AUTH_AUDIENCE", LOCAL_AUDIENCE),
            ttl_s=6 * 3600,
        )
    target = results or file.with_suffix(".results.csv")
    try:
        summary = run_import(
            file, base_url=url, token=token, country=country, results_path=target if wait else None, wait=wait
        )
    except ImportFailed as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for line in summary.lines():
        typer.echo(line)


dlq_app = typer.Typer(help="Dead letters: events a consumer gave up on, with the reason.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


def _broker_from_env() -> tuple[str, str]:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"), os.environ.get("KAFKA_TOPIC_PREFIX", "")


def _security_from_env() -> KafkaSecurity:
    """TLS as the services connect (KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_CAFILE, _CERTFILE, _KEYFILE)."""
    protocol = os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
    if protocol not in ("PLAINTEXT", "SSL"):
        raise typer.BadParameter(f"KAFKA_SECURITY_PROTOCOL must be PLAINTEXT or SSL, not {protocol}")
    return KafkaSecurity(
        protocol="SSL" if protocol == "SSL" else "PLAINTEXT",
        cafile=os.environ.get("KAFKA_SSL_CAFILE"),
        certfile=os.environ.get("KAFKA_SSL_CERTFILE"),
        keyfile=os.environ.get("KAFKA_SSL_KEYFILE"),
    )


def _select_letters(topic: str | None, group: str | None, event_id: list[str] | None) -> list[DeadLetter]:
    servers, prefix = _broker_from_env()
    security = _security_from_env()
    topics = asyncio.run(dead_letter_topics(servers, security=security))
    wanted = [
        t
        for t in topics
        if t.startswith(prefix)
        and (topic is None or t.split(DLQ_MARKER, 1)[0] in (topic, prefix + topic))
        and (group is None or t.split(DLQ_MARKER, 1)[1] in (group, prefix + group))
    ]
    letters = asyncio.run(read_dead_letters(servers, wanted, security=security))
    if event_id:
        letters = [letter for letter in letters if letter.event_id in set(event_id)]
    return letters


TopicOption = Annotated[str | None, typer.Option("--topic", help="Original topic, e.g. registry.factory.")]
GroupOption = Annotated[str | None, typer.Option("--group", help="Consumer group (the service), e.g. assessments.")]
EventOption = Annotated[list[str] | None, typer.Option("--event-id", help="Only this event (ce_id); repeatable.")]


@dlq_app.command("list")
def dlq_list(topic: TopicOption = None, group: GroupOption = None, event_id: EventOption = None) -> None:
    """Show the dead letters (KAFKA_BOOTSTRAP_SERVERS, KAFKA_TOPIC_PREFIX, KAFKA_SECURITY_PROTOCOL and
    KAFKA_SSL_* from the environment)."""
    letters = _select_letters(topic, group, event_id)
    if not letters:
        typer.echo("no dead letters")
        return
    for letter in letters:
        typer.echo(
            f"{letter.original_topic}  group={letter.group}  id={letter.event_id}  type={letter.header('ce_type')}\n"
            f"  at={letter.failed_at}  attempts={letter.attempts}  reason={letter.reason}\n  error={letter.error}"
        )
    typer.echo(f"{len(letters)} dead letter(s)")


@dlq_app.command("replay")
def dlq_replay(topic: TopicOption = None, group: GroupOption = None, event_id: EventOption = None) -> None:
    """Put dead letters back on their topic; the group that failed processes them, others skip them (inbox)."""
    letters = _select_letters(topic, group, event_id)
    servers, _ = _broker_from_env()
    sent, refused = asyncio.run(replay(servers, letters, security=_security_from_env())) if letters else (0, [])
    for letter, why in refused:
        typer.echo(f"not replayed: {letter.dlq_topic}@{letter.partition}:{letter.offset}: {why}", err=True)
    typer.echo(f"replayed {sent} dead letter(s)" + (f", refused {len(refused)}" if refused else ""))
    if refused:
        raise typer.Exit(1)


def export_openapi() -> dict[str, str]:
    """Each service's OpenAPI document as committed text (no database or broker is contacted)."""
    from servicekit.auth.local_issuer import LocalSigningKey as _Key

    public_pem = _Key.generate().public_pem.decode()
    documents = {}
    for name, definition in load_services().items():
        application = definition.create_app(definition.settings(auth_public_key=public_pem, auth_jwks_url=None))
        documents[name] = json.dumps(application.openapi(), indent=2, sort_keys=True) + "\n"
    return documents


def main() -> None:
    sys.exit(app())
