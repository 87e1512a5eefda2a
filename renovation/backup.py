"""Backups: the PostgreSQL database and the media folder (reports, documents, photos) in one
tar archive, and their restore into an empty database.

An archive holds `manifest.json` (when, from which server, the applied migrations, the rows
of every table, the media files), `db.dump` (pg_dump's custom format) and `media/`. The
manifest's row counts are taken in the very snapshot pg_dump reads, so a restore can check
that it got every row back. pg_dump and pg_restore come from the PATH and must be at least
the server's major version (Debian: apt-get install postgresql-client-15)."""

import datetime
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "db.dump"
MEDIA = "media"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message tells the operator why."""


@dataclass
class RestoreResult:
    manifest: dict
    counts: dict[str, int]
    # Tables whose rows differ from the manifest: {table: (in the archive, restored)}.
    differences: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    # Stored file names that rows point to but the archive's media folder lacked.
    missing_files: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def backup_create(*, directory: Path) -> Path:
    """Write `directory/xinsheng-YYYYmmdd-HHMMSS.tar` (local time) and return its path."""
    _require_postgresql()
    pg_dump = _client("pg_dump")
    server = _server_version()
    client_version = _client_version(pg_dump)
    if _major(client_version) < _major(server):
        raise BackupError(
            f"{pg_dump} is version {client_version} but the server runs PostgreSQL {server}: "
            f"install the PostgreSQL {_major(server)} client (postgresql-client-{_major(server)})."
        )
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"xinsheng-{timezone.localtime():%Y%m%d-%H%M%S}.tar"
    if target.exists():
        raise BackupError(f"{target} already exists; try again in a second.")

    with tempfile.TemporaryDirectory(dir=directory, prefix=".xinsheng-backup-") as work:
        dump = Path(work) / DUMP
        # One snapshot for the dump and the counts: the application may keep writing.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                _run(
                    [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={dump}"],
                    what="pg_dump",
                )
                counts = table_counts()
                migrations = _migration_state(cursor)
        media_files, media_bytes = _media_size(Path(settings.MEDIA_ROOT))
        manifest = {
            "format": FORMAT,
            "created_at": timezone.localtime().isoformat(timespec="seconds"),
            "database": {
                "name": connection.settings_dict["NAME"],
                "server_version": server,
                "pg_dump_version": client_version,
            },
            "migrations": migrations,
            "tables": counts,
            "rows": sum(counts.values()),
            "media": {"files": media_files, "bytes": media_bytes},
        }
        (Path(work) / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        partial = Path(work) / target.name
        with tarfile.open(partial, "w") as archive:
            archive.add(Path(work) / MANIFEST, arcname=MANIFEST)
            archive.add(dump, arcname=DUMP)
            media = Path(settings.MEDIA_ROOT)
            if media.is_dir():
                archive.add(media, arcname=MEDIA)
            else:
                archive.add(work, arcname=MEDIA, recursive=False)  # an empty folder
        os.replace(partial, target)  # complete or absent, never half written
    return target


def backup_manifest(archive: Path) -> dict:
    with _open(archive) as tar:
        return _read_manifest(tar)


def backup_restore(*, archive: Path, force: bool = False) -> RestoreResult:
    """Restore an archive into the database named by DATABASE_URL and into MEDIA_ROOT.

    Both must be empty unless `force`: then the database's tables are dropped first and the
    archive's files are written over the media folder (files it does not hold stay)."""
    _require_postgresql()
    pg_restore = _client("pg_restore")
    with _open(archive) as tar:
        manifest = _read_manifest(tar)
        dumped_by = manifest["database"]["pg_dump_version"]
        if _major(_client_version(pg_restore)) < _major(dumped_by):
            raise BackupError(
                f"The archive was written by pg_dump {dumped_by}; {pg_restore} is older: "
                f"install the PostgreSQL {_major(dumped_by)} client."
            )
        name = connection.settings_dict["NAME"]
        tables = connection.introspection.table_names()
        if tables and not force:
            raise BackupError(
                f"The database {name} is not empty ({len(tables)} tables, such as "
                f"{tables[0]}). Restore into a new, empty database (createdb {name}_restored "
                "and point DATABASE_URL at it), or add --force (make restore FORCE=1) to "
                f"drop everything in {name} and replace it with the backup."
            )
        media_root = Path(settings.MEDIA_ROOT)
        if not force and any(path.is_file() for path in _walk(media_root)):
            raise BackupError(
                f"The media folder {media_root} is not empty. Point DJANGO_MEDIA_ROOT at a new "
                "folder, or add --force (make restore FORCE=1) to write the backup's files "
                "over it."
            )

        with tempfile.TemporaryDirectory(prefix="xinsheng-restore-") as work:
            tar.extract(DUMP, work, filter="data")
            if tables:
                with connection.cursor() as cursor:
                    cursor.execute("DROP SCHEMA public CASCADE")
                    cursor.execute("CREATE SCHEMA public")
            # One transaction: a restore that fails leaves the database as it was.
            _run(
                [
                    pg_restore,
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    f"--dbname={name}",
                    str(Path(work) / DUMP),
                ],
                what="pg_restore",
            )

        media_root.mkdir(parents=True, exist_ok=True)
        prefix = MEDIA + "/"
        for member in tar.getmembers():
            if member.name.startswith(prefix):
                member.name = member.name[len(prefix) :]
                tar.extract(member, media_root, filter="data")

    connection.close()  # the tables it saw before the restore are gone or new
    counts = table_counts()
    expected = manifest["tables"]
    differences = {
        table: (expected.get(table), counts.get(table))
        for table in sorted(set(expected) | set(counts))
        if expected.get(table) != counts.get(table)
    }
    return RestoreResult(
        manifest=manifest,
        counts=counts,
        differences=differences,
        missing_files=_missing_files(),
    )


def table_counts() -> dict[str, int]:
    """Rows of every table of the database, exactly (count(*), not the planner's guess)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def _require_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise BackupError(
            "Backup and restore need PostgreSQL (DATABASE_URL=postgres://…); this is "
            f"{connection.vendor} ({connection.settings_dict['NAME']}). For the SQLite demo, "
            "stop the server and copy db.sqlite3 and the media folder instead."
        )


def _client(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise BackupError(
            f"{program} was not found on the PATH: install the PostgreSQL client of the "
            "server's version (Debian: apt-get install postgresql-client)."
        )
    return path


def _client_version(path: str) -> str:
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    match = re.search(r"(\d+(?:\.\d+)*)", output.stdout)
    if match is None:
        raise BackupError(f"Cannot tell the version of {path}: {output.stdout.strip()!r}")
    return match.group(1)


def _server_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


def _major(version: str) -> int:
    return int(version.split(".")[0])


def _pg_environment() -> dict[str, str]:
    """The connection of DATABASE_URL for pg_dump and pg_restore, through libpq's variables
    (the password never appears in the process list)."""
    db = connection.settings_dict
    env = dict(os.environ)
    for variable, value in (
        ("PGHOST", db.get("HOST")),
        ("PGPORT", db.get("PORT")),
        ("PGUSER", db.get("USER")),
        ("PGPASSWORD", db.get("PASSWORD")),
        ("PGDATABASE", db.get("NAME")),
        ("PGSSLMODE", db.get("OPTIONS", {}).get("sslmode")),
    ):
        if value:
            env[variable] = str(value)
    return env


def _run(command: list[str], *, what: str) -> None:
    result = subprocess.run(command, env=_pg_environment(), capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}):\n{result.stderr.strip()}")


def _migration_state(cursor) -> dict[str, str]:
    """The last migration applied of each app, e.g. {"renovation": "0012_…"}."""
    cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
    return dict(cursor.fetchall())


def _walk(root: Path):
    return root.rglob("*") if root.is_dir() else iter(())


def _media_size(root: Path) -> tuple[int, int]:
    files = [path for path in _walk(root) if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


def _open(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, "r:*")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"Cannot read the backup {archive}: {error}") from error


def _read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        manifest = json.load(tar.extractfile(MANIFEST))
        tar.getmember(DUMP)
    except (KeyError, ValueError) as error:
        raise BackupError(f"{tar.name} is not a Xinsheng backup: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{tar.name} has backup format {manifest.get('format')}, not {FORMAT}.")
    return manifest


def _missing_files() -> list[str]:
    """Files that restored rows point to but the media folder lacks: a report rebuilt while
    the backup ran, say (its rows were dumped before its new file was copied)."""
    missing = []
    for model in apps.get_models():
        for model_field in model._meta.get_fields():
            if not isinstance(model_field, models.FileField):
                continue
            storage = model_field.storage
            names = (
                model._default_manager.exclude(**{model_field.name: ""})
                .exclude(**{f"{model_field.name}__isnull": True})
                .values_list(model_field.name, flat=True)
            )
            missing += [name for name in names.iterator() if not storage.exists(name)]
    return sorted(missing)


def describe(manifest: dict) -> str:
    created = datetime.datetime.fromisoformat(manifest["created_at"])
    media = manifest["media"]
    return (
        f"backup of {manifest['database']['name']} taken {created:%Y-%m-%d %H:%M:%S %z}: "
        f"{manifest['rows']} rows in {len(manifest['tables'])} tables, "
        f"{media['files']} media files ({_size(media['bytes'])})"
    )


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count / 1000:.1f} kB"
