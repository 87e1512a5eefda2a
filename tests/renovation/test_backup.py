"""Backup and restore, end to end on PostgreSQL: a backup of committed data restored into a
new database by `manage.py restore` in its own process, the same rows in every table, and
the monthly report downloaded from the restored system. Runs wherever PostgreSQL and its
client answer; in CI (CI=true) a missing one fails."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from renovation.models import MonthlyReport
from renovation.selectors.report import Month
from renovation.services import report_build, report_request
from tests.factories import ProjectFactory

ROOT = Path(__file__).resolve().parents[2]

# In a fresh process pointed at the restored database and media folder: log in as the
# programme office and download the report, as a browser would.
DOWNLOAD = """
import hashlib, json, django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from django.test.utils import setup_test_environment
from renovation.models import MonthlyReport

setup_test_environment()
client = Client()
client.force_login(get_user_model().objects.get(username="office"))
report = MonthlyReport.objects.get(month="2022-06-01")
response = client.get(f"/reports/{report.pk}/download/")
body = b"".join(response.streaming_content) if response.status_code == 200 else b""
print(json.dumps({"status": response.status_code, "sha256": hashlib.sha256(body).hexdigest()}))
"""


def _postgresql_or_skip() -> None:
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (set DATABASE_URL)")
    missing += [program for program in ("pg_dump", "pg_restore") if shutil.which(program) is None]
    if missing and os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI needs {', '.join(missing)}", pytrace=False)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


def database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    )


def row_counts(cursor) -> dict[str, int]:
    """Every table of the public schema and its rows, counted here rather than trusted from
    the restore's own check."""
    cursor.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def manage(*args: str, database: str, media: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "DJANGO_MEDIA_ROOT": str(media),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "1",
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def new_database():
    """The name of a new, empty database, dropped after the test."""
    _postgresql_or_skip()
    name = f"xs_restore_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_a_new_database_with_every_row_and_the_report(
    registry, users, settings, tmp_path, new_database
):
    settings.MEDIA_ROOT = tmp_path / "media"
    ProjectFactory(compound=registry["compounds"]["GY"], batch_year=2022)
    report = report_request(
        month=Month.parse("2022-06"), user=users["programme_office"], enqueue=False
    )
    report = report_build(report_id=report.pk)
    assert report.status == MonthlyReport.Status.DONE
    report_sha = hashlib.sha256((settings.MEDIA_ROOT / report.file.name).read_bytes()).hexdigest()

    call_command("backup", output_dir=str(tmp_path / "backups"))

    [archive] = (tmp_path / "backups").glob("xinsheng-*.tar")
    with connection.cursor() as cursor:
        source = row_counts(cursor)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert "db.dump" in names
    assert f"media/{report.file.name}" in names
    assert manifest["tables"] == source
    assert manifest["migrations"]["renovation"].startswith("00")
    assert manifest["media"]["files"] == 1

    restored_media = tmp_path / "restored-media"
    restore = manage(
        "manage.py", "restore", str(archive), database=new_database, media=restored_media
    )
    assert restore.returncode == 0, restore.stderr
    assert f"Row counts equal the backup's: {sum(source.values())} rows" in restore.stdout

    with psycopg.connect(database_url(new_database)) as restored_connection:
        restored = row_counts(restored_connection.cursor())
    assert restored == source  # table by table
    assert restored["renovation_compound"] == 3
    assert restored["renovation_monthlyreport"] == 1

    download = manage("-c", DOWNLOAD, database=new_database, media=restored_media)
    assert download.returncode == 0, download.stderr
    assert json.loads(download.stdout.strip().splitlines()[-1]) == {
        "status": 200,
        "sha256": report_sha,
    }

    # Restoring again over the restored system is refused, unless forced; forced, it puts
    # back exactly the backup, whatever was changed or added since.
    with psycopg.connect(database_url(new_database), autocommit=True) as restored_connection:
        restored_connection.execute("DELETE FROM renovation_building")
        restored_connection.execute("CREATE TABLE stray (id int)")
    again = manage(
        "manage.py", "restore", str(archive), database=new_database, media=restored_media
    )
    assert again.returncode == 1
    assert f"The database {new_database} is not empty" in again.stderr
    assert "--force" in again.stderr
    forced = manage(
        "manage.py", "restore", "--force", str(archive), database=new_database, media=restored_media
    )
    assert forced.returncode == 0, forced.stderr
    with psycopg.connect(database_url(new_database)) as restored_connection:
        assert row_counts(restored_connection.cursor()) == source


def test_backup_on_sqlite_says_it_needs_postgresql(tmp_path):
    env = {**os.environ, "DATABASE_URL": "", "DJANGO_MEDIA_ROOT": str(tmp_path)}
    for command in (["backup", "--output-dir", str(tmp_path)], ["restore", "x.tar"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 1
        assert "Backup and restore need PostgreSQL" in result.stderr
    assert list(tmp_path.iterdir()) == []
