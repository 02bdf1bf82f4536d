"""The test kit every suite shares (service tests and the cross-service tests in `tests/`).

- `access`: request headers for each role (`staff(platform)`, `factory(platform, factory_id)`, ...);
- `database`: look into a service's own schema as the service does (`connect_as`, `fetch`);
- `waiting`: `wait_until` an effect shows, `metric_value` of a Prometheus family;
- `events`: put records on a topic as another (possibly broken) producer would;
- `cli`: run the `betterwork` command;
- `registry`, `assessments`, `partnerships`: builders for common states (an enrolled factory, a released
  assessment, a linked buyer with consent and entitlement), made through each service's own API.

Builders talk HTTP to the service that owns the state, never to its tables, except where a test needs a
read model in a given state without running the service that feeds it (`seed_factory_ref`).
"""
