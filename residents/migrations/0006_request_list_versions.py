"""The versions of communities' request lists (RequestListVersion), written by triggers.

Every change of requests, compounds, buildings and item categories, whichever way it is
written, sets the versions of the communities it touches (community 0 for the item
categories) to a new, larger number, in the transaction of the change. PostgreSQL: one
trigger per statement (transition tables), numbers from a sequence, so a COPY of a million
requests costs one update per community. SQLite: one trigger per row, numbers one above the
largest so far (it has one writer at a time)."""

from django.db import migrations, models

VERSIONS = "residents_requestlistversion"
SEQUENCE = "residents_request_list_version_seq"

# What each watched table's rows touch: the communities of `{rows}` (the old or new rows).
TOUCHES = {
    "residents_residentrequest": (
        "SELECT community_id FROM renovation_compound WHERE id IN (SELECT compound_id FROM {rows})"
    ),
    "renovation_compound": "SELECT community_id FROM {rows}",
    "renovation_building": (
        "SELECT community_id FROM renovation_compound WHERE id IN (SELECT compound_id FROM {rows})"
    ),
    "renovation_itemcategory": "SELECT 0",
}

# --- PostgreSQL -----------------------------------------------------------------------------

POSTGRESQL_TOUCH = f"""
CREATE SEQUENCE {SEQUENCE};
CREATE FUNCTION residents_touch_request_lists(communities bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO {VERSIONS} AS v (community_id, version)
    SELECT id, nextval('{SEQUENCE}')
    FROM (SELECT DISTINCT id FROM unnest(communities) AS id WHERE id IS NOT NULL) AS touched
    ORDER BY id
    ON CONFLICT (community_id)
    DO UPDATE SET version = GREATEST(nextval('{SEQUENCE}'), v.version + 1)
$$;
"""


def _postgresql_function(table: str) -> str:
    def touch(*rows: str) -> str:
        # The old and new rows' communities in one call, which takes their row locks in
        # the order of their ids: two updates touching the same two communities wait for
        # each other instead of deadlocking.
        touched = " UNION ALL ".join(TOUCHES[table].format(rows=name) for name in rows)
        return f"PERFORM residents_touch_request_lists(ARRAY({touched}));"

    return f"""
CREATE FUNCTION {table}_touches_request_lists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {touch("new_rows")}
    ELSIF TG_OP = 'UPDATE' THEN
        {touch("new_rows", "old_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {touch("old_rows")}
    ELSE  -- TRUNCATE: every community, and the categories
        PERFORM residents_touch_request_lists(
            ARRAY(SELECT id FROM renovation_community UNION ALL SELECT 0));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER touches_request_lists_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_touches_request_lists();
CREATE TRIGGER touches_request_lists_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_touches_request_lists();
CREATE TRIGGER touches_request_lists_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_touches_request_lists();
CREATE TRIGGER touches_request_lists_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_touches_request_lists();
"""


def _postgresql_drop(table: str) -> str:
    return f"DROP FUNCTION {table}_touches_request_lists() CASCADE;"


# --- SQLite ---------------------------------------------------------------------------------


# The communities one row touches (`{row}`: NEW or OLD), as a column `id`.
SQLITE_TOUCHES = {
    "residents_residentrequest": (
        "SELECT community_id AS id FROM renovation_compound WHERE id = {row}.compound_id"
    ),
    "renovation_compound": "SELECT {row}.community_id AS id",
    "renovation_building": (
        "SELECT community_id AS id FROM renovation_compound WHERE id = {row}.compound_id"
    ),
    "renovation_itemcategory": "SELECT 0 AS id",
}


def _sqlite_touch(table: str, row: str) -> str:
    return (
        f"INSERT INTO {VERSIONS} (community_id, version)"
        f" SELECT touched.id, (SELECT COALESCE(MAX(version), 0) + 1 FROM {VERSIONS})"
        f" FROM ({SQLITE_TOUCHES[table].format(row=row)}) AS touched WHERE touched.id IS NOT NULL"
        " ON CONFLICT (community_id) DO UPDATE SET version = excluded.version;"
    )


def _sqlite_triggers(table: str) -> list[str]:
    rows = {"INSERT": ["NEW"], "UPDATE": ["NEW", "OLD"], "DELETE": ["OLD"]}
    return [
        f"CREATE TRIGGER {table}_touches_request_lists_{event.lower()} AFTER {event} ON {table}"
        f" BEGIN {' '.join(_sqlite_touch(table, row) for row in touched)} END;"
        for event, touched in rows.items()
    ]


# --- Both -----------------------------------------------------------------------------------


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_TOUCH)
        for table in TOUCHES:
            schema_editor.execute(_postgresql_function(table))
    elif vendor == "sqlite":
        for table in TOUCHES:
            for trigger in _sqlite_triggers(table):
                schema_editor.execute(trigger)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in TOUCHES:
            schema_editor.execute(_postgresql_drop(table))
        schema_editor.execute(
            f"DROP FUNCTION residents_touch_request_lists(bigint[]); DROP SEQUENCE {SEQUENCE};"
        )
    elif vendor == "sqlite":
        for table in TOUCHES:
            for event in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER {table}_touches_request_lists_{event};")


class Migration(migrations.Migration):
    dependencies = [
        ("renovation", "0007_area_updated_at"),
        ("residents", "0005_request_logged"),
    ]

    operations = [
        migrations.CreateModel(
            name="RequestListVersion",
            fields=[
                (
                    "community_id",
                    models.BigIntegerField(
                        primary_key=True, serialize=False, verbose_name="community"
                    ),
                ),
                ("version", models.BigIntegerField(verbose_name="version")),
            ],
            options={
                "verbose_name": "version of a community's request lists",
                "verbose_name_plural": "versions of communities' request lists",
                "default_permissions": (),
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
