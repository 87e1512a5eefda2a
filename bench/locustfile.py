"""Locust users for bench/load.py: grid workers logging residents' requests from their
phones, and staff browsing. Each simulated user logs in once (django-axes counts failures
only, and every one has its own account), then works at a fixed pace; the statistics are
reset once everyone is logged in, so the password hashing of the logins (a deliberate
second of CPU each) is not counted as the site's speed.

The users are locust's FastHttpUser (geventhttpclient): the load generator shares the two
cores with the site, and it costs a fraction of the CPU per request of the requests-based
HttpUser, which leaves the cores to what is measured.

The server runs the production settings behind no TLS on loopback, so the clients say what
nginx would (X-Forwarded-Proto: https, a same-site Referer for the CSRF check), and their cookie
jar sends the secure session and CSRF cookies back over loopback's plain HTTP, as the browser
would over the HTTPS that nginx ends.

Reads its people from the JSON file named by BENCH_LOAD_PEOPLE (written by bench/load.py)."""

import json
import os
import random
import re
from http.cookiejar import DefaultCookiePolicy

import gevent.event
from locust import FastHttpUser, constant_throughput, events, task

PEOPLE = json.loads(open(os.environ["BENCH_LOAD_PEOPLE"], encoding="utf-8").read())
PACE = float(os.environ.get("BENCH_LOAD_PACE", "1"))  # HTTP requests per second per user
PASSWORD = PEOPLE["password"]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ALL_IN = gevent.event.Event()
_logged_in = {"count": 0}
CPU_FILE = os.environ.get("BENCH_LOAD_CPU", "")
_cpu: dict[str, dict[str, float]] = {}


def _server_cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by the site's gunicorn processes and by the PostgreSQL
    backends of the bench database, read from /proc: the cost of the requests, whatever
    else the machine is doing."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = {"gunicorn": 0.0, "postgresql": 0.0, "locust": 0.0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if "gunicorn" in command and "config.wsgi" in command:
            totals["gunicorn"] += seconds
        elif command.startswith("postgres: ") and " xinsheng_bench " in command:
            totals["postgresql"] += seconds
    # The load generator's own share of the cores, reported apart from the site's.
    own = os.times()
    totals["locust"] = own.user + own.system
    return totals


@events.test_stop.add_listener
def _write_cpu(environment, **_kwargs) -> None:
    if CPU_FILE and "start" in _cpu:
        _cpu["stop"] = _server_cpu_seconds()
        with open(CPU_FILE, "w", encoding="utf-8") as output:
            json.dump(_cpu, output)


def _claim(kind: str) -> dict:
    return PEOPLE[kind].pop(0)


class Person(FastHttpUser):
    abstract = True
    interval = 1 / PACE  # seconds between the starts of two tasks
    wait_time = constant_throughput(1 / interval)
    kind = ""

    def on_start(self) -> None:
        self.person = _claim(self.kind)
        self.client.cookiejar.set_policy(
            DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))
        )
        page = self._get("/accounts/login/", name="login")
        self._post(
            "/accounts/login/",
            {"username": self.person["username"], "password": PASSWORD, "next": "/"},
            page,
            name="login",
            allow_redirects=False,
        )
        if not any(cookie.name == "sessionid" for cookie in self.client.cookiejar):
            raise RuntimeError(f"{self.person['username']} could not log in")
        _logged_in["count"] += 1
        if _logged_in["count"] == self.environment.runner.target_user_count:
            # Everyone is in: measure from here.
            self.environment.runner.stats.reset_all()
            _cpu["start"] = _server_cpu_seconds()
            ALL_IN.set()
        ALL_IN.wait()
        # People do not click in step: released together, fifty users paced at one request
        # a second would send their requests in one burst each second, and the queue that
        # burst makes would be measured instead of the site. Each starts at a random moment
        # of its first interval, so requests arrive spread over the second.
        gevent.sleep(random.uniform(0, self.interval))

    def _headers(self, path: str) -> dict[str, str]:
        return {"X-Forwarded-Proto": "https", "Referer": f"https://{self._netloc()}{path}"}

    def _netloc(self) -> str:
        return self.host.split("://", 1)[1].rstrip("/")

    def _get(self, path: str, name: str | None = None) -> str:
        with self.client.get(
            path, headers=self._headers(path), name=name or path, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            return response.text

    def _post(self, path: str, data: dict, page: str, name: str, **kwargs):
        token = CSRF.search(page)
        data = {**data, "csrfmiddlewaretoken": token[1] if token else ""}
        with self.client.post(
            path, data=data, headers=self._headers(path), name=name, catch_response=True, **kwargs
        ) as response:
            if response.status_code not in (200, 302):
                response.failure(f"{response.status_code}")
            elif response.status_code == 200 and name != "login":
                response.failure("the form came back (not saved)")
            return response


class GridWorker(Person):
    weight = 3
    kind = "grid_workers"
    # Half its tasks make three requests (form, save, the request logged) and half make
    # one: two on average, so half the pace keeps every user at PACE requests a second.
    interval = 2 / PACE
    wait_time = constant_throughput(1 / interval)

    @task(2)
    def log_a_request(self) -> None:
        page = self._get("/residents/new/", name="grid: log a request (form)")
        building = random.choice(self.person["buildings"])
        response = self._post(
            "/residents/new/",
            {
                "kind": random.choice(["wish", "errand", "complaint"]),
                "compound": building["compound"],
                "building": building["id"],
                "unit_number": 1,
                "room": f"{random.randint(1, 6)}0{random.randint(1, 4)}",
                "category": "",
                "description": "压测：楼道灯不亮，希望尽快维修。",
                "contact_name": "王阿姨",
                "contact_phone": "13800138000",
                "channel": "door_to_door",
            },
            page,
            name="grid: log a request (save)",
            allow_redirects=False,
        )
        location = response.headers.get("Location", "")
        if location.startswith("/residents/"):
            self._get(location, name="grid: the request logged")

    @task(2)
    def my_requests(self) -> None:
        self._get("/residents/", name="grid: my requests")


class Staff(Person):
    weight = 2
    kind = "staff"

    @task(2)
    def project_list(self) -> None:
        self._get("/projects/", name="staff: project list")

    @task(1)
    def dashboard(self) -> None:
        if self.person["district_wide"]:  # the dashboard is for district-wide roles
            self._get("/dashboard/", name="staff: dashboard")
        else:
            self._get("/residents/", name="staff: the community's queue")

    @task(2)
    def admin_requests(self) -> None:
        path = f"/admin/residents/residentrequest/?community={self.person['community']}"
        self._get(path, name="staff: admin requests of a community")

    @task(1)
    def compounds(self) -> None:
        self._get("/registry/compounds/", name="staff: compound list")
