from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from renovation.demo import DEMO_PASSWORD, DEMO_USERS, demo_load, demo_reset


class Command(BaseCommand):
    help = "Load the fictional Liubei District demo data and one demo user per role."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="remove the demo data first")

    def handle(self, *args, reset: bool, **options):
        # Demo users have published passwords: never let them into a production database.
        if not settings.DEBUG:
            raise CommandError("load_demo refuses to run with DJANGO_DEBUG=0 (production).")
        if reset:
            demo_reset()
            self.stdout.write("Removed the previous demo data.")
        figures = demo_load()
        share = 100 * figures["old"] / figures["compounds"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo district loaded: {figures['compounds']} compounds, {figures['old']} old "
                f"({share:.2f}%), {figures['buildings']} buildings."
            )
        )
        self.stdout.write(
            f"Projects: {figures['renovated_2018_2021']} renovated in 2018–2021, "
            f"{figures['batch_2022']} in the 2022 batch."
        )
        self.stdout.write(f"Demo users (password for all, demo only: {DEMO_PASSWORD}):")
        for user in DEMO_USERS:
            area = user.sub_district or user.community or ""
            role = "superuser" if user.superuser else user.role.label
            self.stdout.write(f"  {user.username:<14} {role} {area}")
