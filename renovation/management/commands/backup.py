from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from renovation.backup import BackupError, backup_create, backup_manifest, describe


class Command(BaseCommand):
    help = (
        "Back up the database of DATABASE_URL (PostgreSQL, pg_dump) and the media folder "
        "into one archive, DIR/xinsheng-YYYYmmdd-HHMMSS.tar."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir", default="backups", help="where to write the archive (backups/)"
        )

    def handle(self, *args, output_dir: str, **options):
        try:
            archive = backup_create(directory=Path(output_dir))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Wrote {archive}"))
        self.stdout.write(describe(backup_manifest(archive)))
