from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from renovation import services
from renovation.access import ADD, has_permission
from renovation.models import Compound


class Command(BaseCommand):
    help = (
        "Import the compound registry from an Excel workbook (.xlsx). Nothing is saved if any "
        "row is bad; every bad row is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the .xlsx workbook")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and count, but save nothing"
        )
        parser.add_argument(
            "--user",
            help="import as this user, limited to their area (default: the whole district)",
        )

    def handle(self, *args, file: Path, dry_run: bool, user: str | None, **options):
        importer = self._importer(user) if user else None
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        with file.open("rb") as workbook:
            result = services.registry_import(file=workbook, user=importer, dry_run=dry_run)
        for line in result.as_text_lines():
            self.stdout.write(line)
        if not result.ok:
            raise CommandError(result.summary())

    def _importer(self, username: str):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {username!r}") from None
        if not has_permission(user, Compound, ADD):
            raise CommandError(f"User {username!r} may not add compounds")
        return user
