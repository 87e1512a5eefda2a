"""Figures kept in the cache until the records they are worked out from change.

The dashboard's monthly figures and each project's money take tens of milliseconds of SQL
at city scale, on every view, yet change only when someone changes those records. They are
kept in Django's cache (per process by default, Redis when CACHE_URL is set) under the
*version* of the tables they read: one cheap query whose answer every committed change of
those tables changes, whichever way it is written:

- a new row takes its id from a sequence, so the largest id grows (bulk_create and COPY
  included);
- projects, allocations and payments are changed or deleted only through save() and
  delete() (services, admin, the demo's reset), so simple-history writes a row and the
  largest history id grows;
- transitions are only added, or deleted with their project, which writes the project's
  history (or, in the demo city's raw reset, with its compounds);
- compounds have no history: their count, their count of old ones and their latest update
  time (auto_now, which the registry import also sets on its bulk updates) stand for it;
- sub-districts and communities have no history either: their count, largest id and latest
  update time stand for it.

An id is taken when a row is written, not when its transaction commits, so a transaction
still open may commit later with an id below the largest one seen. Figures are therefore
stored only if, before they are worked out, no other transaction holds a write lock on those
tables and the version read again after that check is unchanged: every id taken before the
check is then committed (and in the version) or gone, and whatever writes after it takes
later ids, which change the version when it commits. (On PostgreSQL; SQLite lets one
transaction write at a time, so its ids come in commit order.) A write that bypasses all of
this, such as QuerySet.update() on these tables (no code path does it), would have to clear
the cache itself. An update time comes from the application server's clock: keep the
servers' clocks in step (NTP), or a rename stamped earlier than the latest may not show."""

import functools
import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Model, QuerySet
from django.utils.translation import get_language

from .models import (
    Community,
    Compound,
    Disbursement,
    FundingAllocation,
    ProgressUpdate,
    ProjectTransition,
    RenovationProject,
    SubDistrict,
)

T = TypeVar("T")

# The tables the dashboard's figures (selectors.report.summary_figures) read.
FIGURE_TABLES = (Compound, RenovationProject, ProjectTransition, FundingAllocation, Disbursement)
# The tables of each project's households, budget and money (selectors.projects).
PROJECT_MONEY_TABLES = (RenovationProject, FundingAllocation, Disbursement)
# The tables a page of the project list is worked out from (selectors.projects.project_page):
# the projects, their money and progress, and the places that name and order them.
PROJECT_LIST_TABLES = (*PROJECT_MONEY_TABLES, ProgressUpdate, Compound, Community, SubDistrict)
# Tables without history whose count, largest id and latest update stand for their version.
_UNHISTORIED = (Community, SubDistrict)
_UNHISTORIED_COLUMNS = ("COUNT(*)", "MAX(id)", "MAX(updated_at)")

# Entries of past versions are never read again; the timeout lets the cache drop them.
TIMEOUT = 24 * 60 * 60
# Pieces of pages keyed by what they show (fragment_key): as the templates' {% cache 600 %}.
FRAGMENT_TIMEOUT = 600

_WRITE_LOCKS = ["RowExclusiveLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"]


def cached(name: str, tables: tuple[type[Model], ...], compute: Callable[[], T]) -> T:
    """`compute()`, from the cache while none of `tables` has changed since it was stored."""
    version = _version(tables)
    key = _key(name, version)
    value = cache.get(key)
    if value is None:
        # Stored only if it is surely of this version: no other transaction was writing to
        # the tables when asked (so every id taken so far is committed or gone), and the
        # version read after that is the same. A writer still open when the version was read
        # could otherwise commit while the value is worked out, below the ids seen.
        storable = not _maybe_writing(tables) and _version(tables) == version
        value = compute()
        if storable:
            cache.set(key, value, TIMEOUT)
    return value


def cached_as_of(name: str, version, compute: Callable[[], T]) -> T:
    """`compute()`, from the cache while `version` is the same: a version kept by the
    database in the transaction of every change it stands for (residents.models.
    RequestListVersion), and read before `compute()` is called, so what is stored under it
    is never older than it. None (no version kept) keeps nothing."""
    if version is None:
        return compute()
    value = cache.get(_key(name, version))
    if value is None:
        value = compute()
        keep_as_of(name, version, value)
    return value


def keep_as_of(name: str, version, value) -> None:
    """Keep `value` for cached_as_of(name, version, ...), worked out alongside another."""
    if version is not None:
        cache.set(_key(name, version), value, TIMEOUT)


def _key(name: str, version) -> str:
    database = connection.settings_dict["NAME"]
    digest = hashlib.sha256(repr((database, version)).encode()).hexdigest()[:32]
    return f"renovation:{name}:{digest}"


def query_digest(queryset: QuerySet, *more) -> str:
    """A digest of the SQL `queryset` runs and of `more`, for the name of what is kept."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # a filter that matches nothing (an area with nothing in it)
        sql, params = "", ()
    return hashlib.sha256(repr((sql, params, more)).encode()).hexdigest()[:32]


def _version(tables: tuple[type[Model], ...]) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(_version_sql(tables))
        return cursor.fetchone()


def fragment_key(*depends_on) -> str:
    """The cache key of a piece of a page (the template's {% cache %}) that shows nothing
    but `depends_on`, in the language of the request."""
    return hashlib.sha256(repr((get_language(), depends_on)).encode()).hexdigest()


def loaded_values(obj: Model) -> tuple:
    """Every value loaded into a model instance (its fields and annotations) and into the
    related instances it holds, as plain data: for the key of a piece of a page that shows
    nothing but these rows (fragment_key)."""
    values = tuple(
        (name, value) for name, value in obj.__dict__.items() if not name.startswith("_")
    )
    related = tuple(
        (name, None if other is None else loaded_values(other))
        for name, other in obj._state.fields_cache.items()
    )
    return type(obj).__qualname__, values, related


def rows_shown(rows) -> object:
    """What a piece of a page that shows nothing but `rows` depends on, for its key
    (fragment_key): the name of the page they were kept under in the cache (`rows.key`,
    residents.selectors.KeptRows), or else every value loaded for each of them."""
    return getattr(rows, "key", None) or [loaded_values(row) for row in rows]


@functools.cache
def _version_sql(tables: tuple[type[Model], ...]) -> str:
    """One query for the version of the tables' committed rows (see the module's docstring)."""
    quote = connection.ops.quote_name
    columns, source = [], ""
    for model in tables:
        table = quote(model._meta.db_table)
        if model is Compound:
            columns += [
                "COUNT(*)",
                "SUM(CASE WHEN is_old THEN 1 ELSE 0 END)",
                "MAX(id)",
                "MAX(updated_at)",
            ]
            source = f" FROM {table}"
            continue
        if model in _UNHISTORIED:
            columns += [f"(SELECT {f} FROM {table})" for f in _UNHISTORIED_COLUMNS]
            continue
        columns.append(f"(SELECT MAX(id) FROM {table})")
        if model is not ProjectTransition:
            history = quote(model.history.model._meta.db_table)
            columns.append(f"(SELECT MAX(history_id) FROM {history})")
    return f"SELECT {', '.join(columns)}{source}"


def _maybe_writing(tables: tuple[type[Model], ...]) -> bool:
    """Whether another transaction may be writing to the tables now, asked after the version
    was read: only then is it safe to store what was worked out under that version."""
    if connection.vendor == "sqlite":
        return False  # one writer at a time: ids come in commit order
    if connection.vendor != "postgresql":
        return True  # no proof for other databases, so nothing is stored
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE database = (SELECT oid FROM"
            " pg_database WHERE datname = current_database()) AND relation = ANY(%s::regclass[])"
            " AND mode = ANY(%s) AND pid IS DISTINCT FROM pg_backend_pid())",
            [[model._meta.db_table for model in tables], _WRITE_LOCKS],
        )
        return cursor.fetchone()[0]
