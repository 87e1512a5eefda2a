from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from renovation.backup import BackupError, backup_restore, describe


class Command(BaseCommand):
    help = (
        "Restore a backup (manage.py backup) into the empty database of DATABASE_URL and the "
        "media folder, then check every table's rows against the backup's manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="a backups/xinsheng-YYYYmmdd-HHMMSS.tar")
        parser.add_argument(
            "--force",
            action="store_true",
            help="drop everything in a database that is not empty, and write over the media folder",
        )

    def handle(self, *args, archive: str, force: bool, **options):
        try:
            result = backup_restore(archive=Path(archive), force=force)
        except BackupError as error:
            raise CommandError(str(error)) from error
        name = connection.settings_dict["NAME"]
        self.stdout.write(f"Restored the {describe(result.manifest)}")
        self.stdout.write(f"into the database {name} and {settings.MEDIA_ROOT}.")
        for table, (expected, restored) in result.differences.items():
            self.stderr.write(f"  {table}: {expected} rows in the backup, {restored} restored")
        for name in result.missing_files:
            self.stderr.write(f"  missing file: {name}")
        if result.missing_files:
            self.stderr.write(
                "Rows point to files the backup lacks; ask again for the reports among them."
            )
        if result.differences:
            raise CommandError("The restored row counts differ from the backup's (see above).")
        self.stdout.write(
            self.style.SUCCESS(
                f"Row counts equal the backup's: {result.rows} rows in {len(result.counts)} tables."
            )
        )
        self.stdout.write(
            "Next: `manage.py migrate` (when this code is newer than the backup), then empty "
            "the cache (FLUSHDB on the cache's Redis database, or a new CACHE_KEY_PREFIX) and "
            "restart the web and worker processes. See README, Backup and restore."
        )
