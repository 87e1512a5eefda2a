"""The versions of communities' request lists (RequestListVersion), written by triggers.

Every change of requests, buildings, compounds, communities and item categories, whichever
way it is written, sets the versions of the communities it touches (community 0 for the item
categories) to a new, larger number, in the transaction of the change. Every community
starts with a version, so a community moved to another sub-district changes the count of
both sub-districts' versions.

PostgreSQL: one trigger per changed row, deferred to the end of the transaction (a
constraint trigger), with numbers from a sequence. Deferred, a transaction holds its
communities' version rows only while it commits: held from the first write, a service that
changes one request and then locks another (a transition waiting on a wish another
transition holds) would deadlock with that other transition. A request's compound is read
FOR SHARE, so a compound being moved to another community is read as it is after the move.
TRUNCATE (no rows to look at) touches every community. The city demo's COPY of a million
requests turns the row triggers off and touches every community once instead.

SQLite: one trigger per row, numbers one above the largest so far (one writer at a time)."""

from django.db import migrations, models

VERSIONS = "residents_requestlistversion"
SEQUENCE = "residents_request_list_version_seq"

# The communities one row touches (`{row}`: NEW or OLD), as a column `id`.
ROW_TOUCHES = {
    "residents_residentrequest": (
        "SELECT community_id AS id FROM renovation_compound WHERE id = {row}.compound_id"
    ),
    "renovation_building": (
        "SELECT community_id AS id FROM renovation_compound WHERE id = {row}.compound_id"
    ),
    "renovation_compound": "SELECT {row}.community_id AS id",
    "renovation_community": "SELECT {row}.id AS id",
    "renovation_itemcategory": "SELECT 0 AS id",
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
INSERT INTO {VERSIONS} (community_id, version)
    SELECT id, nextval('{SEQUENCE}') FROM (SELECT id FROM renovation_community UNION SELECT 0) AS c
    ORDER BY id;
"""


def _postgresql_function(table: str) -> str:
    def touch(row: str) -> str:
        query = ROW_TOUCHES[table].format(row=row)
        if "FROM renovation_compound" in query:
            query += " FOR SHARE"  # a move of the compound, still open, is waited for
        return query

    return f"""
CREATE FUNCTION {table}_touches_request_lists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM residents_touch_request_lists(ARRAY({touch("NEW")}));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM residents_touch_request_lists(
            ARRAY({touch("NEW")}) || ARRAY({touch("OLD")}));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM residents_touch_request_lists(ARRAY({touch("OLD")}));
    ELSE  -- TRUNCATE: every community, and the categories
        PERFORM residents_touch_request_lists(
            ARRAY(SELECT id FROM renovation_community UNION ALL SELECT 0));
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER touches_request_lists AFTER INSERT OR UPDATE OR DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION {table}_touches_request_lists();
CREATE TRIGGER touches_request_lists_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_touches_request_lists();
"""


def _postgresql_drop(table: str) -> str:
    return f"DROP FUNCTION {table}_touches_request_lists() CASCADE;"


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_touch(table: str, row: str) -> str:
    return (
        f"INSERT INTO {VERSIONS} (community_id, version)"
        f" SELECT touched.id, (SELECT COALESCE(MAX(version), 0) + 1 FROM {VERSIONS})"
        f" FROM ({ROW_TOUCHES[table].format(row=row)}) AS touched WHERE touched.id IS NOT NULL"
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
        for table in ROW_TOUCHES:
            schema_editor.execute(_postgresql_function(table))
    elif vendor == "sqlite":
        schema_editor.execute(
            f"INSERT INTO {VERSIONS} (community_id, version)"
            " SELECT id, 1 FROM renovation_community UNION SELECT 0, 1"
        )
        for table in ROW_TOUCHES:
            for trigger in _sqlite_triggers(table):
                schema_editor.execute(trigger)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in ROW_TOUCHES:
            schema_editor.execute(_postgresql_drop(table))
        schema_editor.execute(
            f"DROP FUNCTION residents_touch_request_lists(bigint[]); DROP SEQUENCE {SEQUENCE};"
        )
    elif vendor == "sqlite":
        for table in ROW_TOUCHES:
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
