from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from renovation.report_workbook import build_workbook
from renovation.selectors.report import Month
from renovation.services import report_build, report_request


class Command(BaseCommand):
    help = (
        "Build the monthly joint-meeting workbook for YYYY-MM synchronously: to --output, "
        "or, without it, into the month's stored report (replacing its file)."
    )

    def add_arguments(self, parser):
        parser.add_argument("month", help="the month, as YYYY-MM (e.g. 2022-06)")
        parser.add_argument("--output", help="write the workbook to this .xlsx file")

    def handle(self, *args, month: str, output: str | None, **options):
        try:
            parsed = Month.parse(month)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if output:
            path = Path(output)
            if path.suffix.lower() != ".xlsx":
                raise CommandError("--output must name an .xlsx file")
            path.write_bytes(build_workbook(parsed))
            self.stdout.write(self.style.SUCCESS(f"Wrote {path} for {parsed}."))
            return
        report = report_request(month=parsed, user=None, enqueue=False)
        report = report_build(report_id=report.pk)
        self.stdout.write(self.style.SUCCESS(f"Stored {report.file.name} for {parsed}."))
