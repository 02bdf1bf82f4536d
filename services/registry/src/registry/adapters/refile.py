"""Filing every factory anew, for migrations that change the matching rules (0008, 0009)."""

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry.adapters.tables import blocking_keys_for, name_keys_for, profile_for, search_text_for

CHUNK = 5000


def refile(bind: Connection) -> None:
    """Every factory filed anew by the running code's rules: cleaned names, search text, search keys and matching
    profile (a migration that changes what normalisation makes of a name or an address calls this)."""
    rows = bind.execute(
        sa.text("SELECT id, country, name, local_name, aliases, address, merged_into IS NOT NULL FROM registry.factory")
    ).all()
    bind.execute(sa.text("DELETE FROM registry.factory_name"))
    bind.execute(sa.text("DELETE FROM registry.factory_key"))
    update = sa.text(
        "UPDATE registry.factory f SET search_text = r.search_text, match_profile = CAST(r.profile AS jsonb)"
        " FROM unnest(CAST(:ids AS uuid[]), CAST(:texts AS text[]), CAST(:profiles AS text[]))"
        " AS r(id, search_text, profile) WHERE f.id = r.id"
    )
    file_names = sa.text(
        "INSERT INTO registry.factory_name (factory_id, name_key, country)"
        " SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:keys AS text[]), CAST(:countries AS text[]))"
    )
    file_keys = sa.text(
        "INSERT INTO registry.factory_key (factory_id, key, country)"
        " SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:keys AS text[]), CAST(:countries AS text[]))"
    )
    for start in range(0, len(rows), CHUNK):
        texts, profiles = [], []
        names: list[tuple[object, str, str]] = []
        keys: list[tuple[object, str, str]] = []
        for factory_id, country, name, local_name, aliases, address, merged in rows[start : start + CHUNK]:
            all_names = [n for n in (name, local_name, *(aliases or ())) if n]  # as `Factory.names`
            texts.append(search_text_for(all_names))
            profiles.append(json.dumps(profile_for(all_names, address).as_json()))
            if merged:  # a merged record is no candidate any more; its text is still searched
                continue
            names.extend((factory_id, k, country) for k in name_keys_for(all_names))
            keys.extend((factory_id, k, country) for k in blocking_keys_for(all_names, address))
        chunk_ids = [row[0] for row in rows[start : start + CHUNK]]
        bind.execute(update, {"ids": chunk_ids, "texts": texts, "profiles": profiles})
        for statement, filed in ((file_names, names), (file_keys, keys)):
            if filed:
                bind.execute(
                    statement,
                    {"ids": [f[0] for f in filed], "keys": [f[1] for f in filed], "countries": [f[2] for f in filed]},
                )
