"""Recognise a database built by migrations this code no longer has, and say how to rebuild it.

The migrations were squashed once (into 0001_initial and 0002_postgresql) before the first
release. A database made by the earlier set records 0001_initial too, so `migrate` would take
it for a new one half-way and apply 0002 over a different schema. Instead it is refused,
untouched, with the way to rebuild it: `make run` says so before it migrates, and `migrate`
itself stops before its first operation (the PostgreSQL installations).
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

APP_LABEL = "emag_sync"


class SupersededSchema(CommandError):
    """The database was built by migrations this code does not have; it must be rebuilt."""


def superseded_migrations(connection: BaseDatabaseWrapper) -> list[str]:
    """Return the app's migrations recorded as applied that this code has not, sorted."""
    if not MigrationRecorder(connection).has_table():
        return []
    # Asked of this connection itself: the recorder's queries go to the connection's alias.
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM django_migrations WHERE app = %s", [APP_LABEL])
        applied = {name for (name,) in cursor.fetchall()}
    known = {name for app, name in MigrationLoader(None).disk_migrations if app == APP_LABEL}
    return sorted(applied - known)


def rebuild_instructions(connection: BaseDatabaseWrapper, superseded: list[str]) -> str:
    """Return what to tell the user of a database with `superseded` migrations."""
    shown = ", ".join(superseded[:3]) + (", ..." if len(superseded) > 3 else "")
    lines = [
        f"This database was built by migrations this version no longer has ({shown}): "
        "they were replaced by a new set before the first release, and the database must be "
        "rebuilt once. It was left untouched.",
    ]
    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        try:
            shown_path = path.resolve().relative_to(settings.BASE_DIR)
        except ValueError:
            shown_path = path
        lines.append(
            f"To rebuild it, delete {shown_path} (and {shown_path}-wal, {shown_path}-shm if "
            f"present), e.g. `rm -f {shown_path} {shown_path}-wal {shown_path}-shm`, then run "
            "`make run` again: it builds a new database and queues a full sync, which refills "
            "the offers from eMAG; the first order sync the orders of the last "
            "EMAG_ORDERS_INITIAL_DAYS days."
        )
    else:
        name = connection.settings_dict["NAME"]
        lines.append(
            f"To rebuild it, drop and create the database {name!r} "
            f"(`dropdb {name} && createdb {name}`, or DROP/CREATE DATABASE in psql), then "
            "`python manage.py migrate` (docker-compose: its `setup` service) and run a full "
            "sync (Periodic tasks -> the full sync entry -> Run selected tasks), which refills "
            "the offers from eMAG; the first order sync the orders of the last "
            "EMAG_ORDERS_INITIAL_DAYS days."
        )
    lines.append(
        "Only what eMAG holds comes back: local notes, custom attributes, local edits, "
        "conflicts, run history, admin users and schedule edits start empty."
    )
    return "\n".join(lines)


def refuse_superseded_schema(connection: BaseDatabaseWrapper) -> None:
    """Raise SupersededSchema, with the rebuild instructions, for a superseded database."""
    superseded = superseded_migrations(connection)
    if superseded:
        raise SupersededSchema(rebuild_instructions(connection, superseded))


def refuse_superseded_schema_before_migrating(sender, using: str, **kwargs) -> None:
    """Stop `migrate` before its first operation on a superseded database (pre_migrate)."""
    from django.db import connections

    refuse_superseded_schema(connections[using])
