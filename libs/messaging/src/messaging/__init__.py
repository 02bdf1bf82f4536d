"""The event backbone: an accepted write is never lost and never applied twice.

- `envelope`: CloudEvents 1.0 in Kafka binary mode.
- `outbox`: events stored in the same transaction as the state change.
- `relay`: outbox -> Kafka, one active relay per service, in commit order per aggregate.
- `consumer`: Kafka -> inbox + handler effects in one transaction; retries; dead letters.
- `dlq`: listing and replaying dead letters.
- `runtime`: the lifespan hook that runs relay and consumer inside a service.
"""
