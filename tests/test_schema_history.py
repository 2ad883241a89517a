"""A database built by the migrations replaced before release is refused, untouched, with the fix.

Such a database records 0001_initial too, so `migrate` alone would take it for a new one and
apply 0002_postgresql over another schema. `make run` says how to rebuild it before it
migrates, and `migrate` stops before its first operation.
"""

import subprocess  # nosec B404  (runs the project's own scripts)
import sys
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import ConnectionHandler

from emag_sync.schema_history import (
    SupersededSchema,
    refuse_superseded_schema,
    superseded_migrations,
)
from tests.test_schedule_processes import load_run_script

ROOT = Path(__file__).resolve().parent.parent
# What the replaced set left in django_migrations (its first and last migrations).
OLD_MIGRATIONS = ["0001_initial", "0002_orders", "0018_syncrun_interrupted"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def sqlite_at(tmp_path):
    """Return a function opening a connection to an SQLite file of its own under tmp_path."""
    handlers = []

    def open_connection(name: str):
        # In WAL mode, as the embedded profile keeps its database.
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_path / name),
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},
        }
        handler = ConnectionHandler({"default": database})
        handlers.append(handler)
        return handler["default"]

    yield open_connection
    for handler in handlers:
        handler.close_all()


def record_applied(connection, names: list[str], app: str = "emag_sync") -> None:
    """Record migrations as applied in this connection's own database."""
    MigrationRecorder(connection).ensure_schema()
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)",
            [(app, name, "2026-12-01 00:00:00") for name in names],
        )


def test_a_database_with_migrations_of_the_replaced_set_is_recognised(sqlite_at):
    connection = sqlite_at("old.sqlite3")
    record_applied(connection, OLD_MIGRATIONS)
    record_applied(connection, ["0012_alter_user_first_name_max_length"], app="auth")

    assert superseded_migrations(connection) == ["0002_orders", "0018_syncrun_interrupted"]


def test_a_database_of_the_current_migrations_or_none_at_all_is_not(sqlite_at):
    current = sqlite_at("current.sqlite3")
    record_applied(current, ["0001_initial", "0002_postgresql"])

    assert superseded_migrations(current) == []
    assert superseded_migrations(sqlite_at("empty.sqlite3")) == []


def test_the_refusal_names_the_file_to_delete_and_says_a_full_sync_refills_it(sqlite_at, tmp_path):
    connection = sqlite_at("old.sqlite3")
    record_applied(connection, OLD_MIGRATIONS)

    with pytest.raises(SupersededSchema) as refused:
        refuse_superseded_schema(connection)

    message = str(refused.value)
    assert "0002_orders, 0018_syncrun_interrupted" in message
    assert "left untouched" in message
    assert f"rm -f {tmp_path / 'old.sqlite3'} " in message
    assert "make run" in message and "full sync" in message
    assert "local notes" in message  # what no sync brings back is said too


def test_make_run_asks_before_it_migrates(sqlite_at):
    connection = sqlite_at("old.sqlite3")
    record_applied(connection, OLD_MIGRATIONS)

    message = load_run_script().superseded_database_message(connection)

    assert message is not None and "must be rebuilt once" in message
    assert load_run_script().superseded_database_message(sqlite_at("new.sqlite3")) is None


@pytest.mark.slow
def test_make_run_and_migrate_leave_an_old_database_untouched_and_exit_non_zero(
    sqlite_at, tmp_path, subprocess_env
):
    database = tmp_path / "old.sqlite3"
    connection = sqlite_at("old.sqlite3")
    record_applied(connection, OLD_MIGRATIONS)
    # As an old database had them: every other app's migrations (migrate checks the history).
    for app, name in MigrationLoader(None).disk_migrations:
        if app != "emag_sync":
            record_applied(connection, [name], app=app)
    connection.close()
    before = database.read_bytes()
    # An empty DATABASE_URL also keeps a developer's .env from naming another database.
    env = {**subprocess_env(), "SQLITE_PATH": str(database), "DATABASE_URL": ""}

    commands = {
        "make run": ([sys.executable, "scripts/run.py"], 2),
        "migrate": ([sys.executable, "manage.py", "migrate", "--noinput"], 1),
    }
    for name, (command, status) in commands.items():
        # Fixed argument lists, no shell.
        done = subprocess.run(  # nosec B603
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        output = done.stdout + done.stderr
        assert done.returncode == status, (name, output)
        assert "must be rebuilt once" in output and f"rm -f {database}" in output, name
        assert database.read_bytes() == before, name
