import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from renovation.demo import DEMO_PASSWORD, DEMO_USERS, demo_load, demo_reset


class Command(BaseCommand):
    help = "Load the fictional Liubei District demo data and one demo user per role."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="remove the demo data first")
        parser.add_argument(
            "--scale",
            choices=["district", "city"],
            default="district",
            help="district: the article's district (default); city: five districts and a "
            "million resident requests, for the benchmarks (PostgreSQL only)",
        )
        parser.add_argument(
            "--fraction",
            type=float,
            default=1.0,
            help="with --scale city: load this fraction of the city (e.g. 0.01)",
        )

    def handle(self, *args, reset: bool, scale: str, fraction: float, **options):
        # Demo users have published passwords: never let them into a production database.
        if not settings.DEBUG:
            raise CommandError("load_demo refuses to run with DJANGO_DEBUG=0 (production).")
        if scale == "city":
            self._load_city(reset=reset, fraction=fraction)
            return
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

    def _load_city(self, *, reset: bool, fraction: float) -> None:
        from renovation.demo.city import city_load, city_reset

        if connection.vendor != "postgresql":
            raise CommandError(
                "--scale city needs PostgreSQL (it loads with COPY): set DATABASE_URL, e.g. "
                "postgres://postgres@127.0.0.1:5432/xinsheng_bench"
            )
        if not 0 < fraction <= 1:
            raise CommandError("--fraction must be above 0 and at most 1.")
        started = time.perf_counter()
        if reset:
            city_reset()
            self.stdout.write("Removed the previous city data.")
        figures = city_load(fraction=fraction, log=self.stdout.write)
        seconds = figures.pop("seconds", None)
        if seconds is not None:
            # What autovacuum would do in the next minutes, done now so the first pages
            # are measured as a running system serves them: the visibility map lets counts
            # read indexes alone. (VACUUM cannot run inside the load's transaction.)
            vacuum_started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)")
            self.stdout.write(f"  vacuum: {time.perf_counter() - vacuum_started:.1f} s")
        counts = ", ".join(f"{value:,} {name.replace('_', ' ')}" for name, value in figures.items())
        self.stdout.write(self.style.SUCCESS(f"City loaded: {counts}."))
        if seconds is not None:
            self.stdout.write(f"Loaded in {time.perf_counter() - started:.1f} s.")
        self.stdout.write(
            "City users: city-office, city-leader, city-grid-<community code>, "
            f"city-staff-<community code> (password, demo only: {DEMO_PASSWORD})."
        )
