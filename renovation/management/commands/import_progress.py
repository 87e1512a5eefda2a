import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from renovation import services
from renovation.access import ADD, has_permission
from renovation.models import ProgressUpdate


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of must be a date like 2022-06-30, not {value!r}") from None


class Command(BaseCommand):
    help = (
        "Import the monthly progress of renovation projects from an Excel workbook (.xlsx). "
        "Nothing is saved if any row is bad; every bad row is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the .xlsx workbook")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and count, but save nothing"
        )
        parser.add_argument(
            "--as-of",
            type=_date,
            help="the date of rows without their own 截至日期 (YYYY-MM-DD)",
        )
        parser.add_argument(
            "--user",
            help="import as this user, limited to their area (default: the whole district)",
        )

    def handle(
        self,
        *args,
        file: Path,
        dry_run: bool,
        as_of: datetime.date | None,
        user: str | None,
        **options,
    ):
        importer = self._importer(user) if user else None
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        with file.open("rb") as workbook:
            try:
                result = services.progress_import(
                    file=workbook, user=importer, dry_run=dry_run, as_of=as_of
                )
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
        for line in result.as_text_lines():
            self.stdout.write(line)
        if not result.ok:
            raise CommandError(result.summary())

    def _importer(self, username: str):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {username!r}") from None
        if not has_permission(user, ProgressUpdate, ADD):
            raise CommandError(f"User {username!r} may not add progress")
        return user
