"""docker-compose runs the processes `make run` starts, the same way, on Redis.

Docker cannot run here, so the compose file is read as data and compared with the Procfile
that `scripts/run.py` writes for `make run`.
"""

import importlib.util
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DATABASE_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"


def load_run_script():
    spec = importlib.util.spec_from_file_location("make_run", ROOT / "scripts" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run_procfile() -> dict[str, list[str]]:
    """Return the processes of `make run` (without the sandbox) as argument lists."""
    text = load_run_script().procfile(port=8000, sandbox_port=8001, with_sandbox=False)
    processes = {}
    for line in text.splitlines():
        name, _, command = line.partition(": ")
        # --quiet only hides Celery's start-up banner from the terminal of `make run`.
        arguments = [argument for argument in shlex.split(command) if argument != "--quiet"]
        arguments[0] = Path(arguments[0]).name  # .venv/bin/celery -> celery
        processes[name] = arguments
    return processes


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def app_services(compose: dict) -> dict[str, dict]:
    """Return the services built from the app's image."""
    return {name: service for name, service in compose["services"].items() if "build" in service}


def arguments(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def manage_commands(service: dict) -> list[str]:
    """Return the `manage.py` commands a `sh -c "a && b"` service command runs, in order."""
    args = arguments(service)
    script = args[2] if args[:2] == ["sh", "-c"] else shlex.join(args)
    steps = [shlex.split(step) for step in script.split("&&")]
    return [step[2] for step in steps if step[:2] == ["python", "manage.py"]]


def option(args: list[str], *names: str) -> str:
    for index, argument in enumerate(args):
        if argument in names:
            return args[index + 1]
    raise AssertionError(f"none of {names} in {args}")


def test_compose_keeps_running_the_processes_make_run_starts(run_procfile, compose):
    long_running = {
        name for name, service in app_services(compose).items() if service.get("restart") != "no"
    }

    assert long_running == set(run_procfile) == {"web", "worker", "beat"}


def test_both_workers_consume_both_queues_and_every_queue_a_task_is_routed_to(
    run_procfile, compose
):
    compose_worker = arguments(compose["services"]["worker"])
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    routed.add(settings.CELERY_TASK_DEFAULT_QUEUE)

    assert compose_worker[:4] == run_procfile["worker"][:4] == ["celery", "-A", "magflow", "worker"]
    make_run_queues = set(option(run_procfile["worker"], "-Q", "--queues").split(","))
    compose_queues = set(option(compose_worker, "-Q", "--queues").split(","))
    assert make_run_queues == compose_queues == routed == {"emag_offers", "emag_orders"}


def test_workers_have_a_process_per_account_plus_room_for_orders(run_procfile, compose):
    accounts = len(settings.EMAG_ACCOUNTS)
    for args in (run_procfile["worker"], arguments(compose["services"]["worker"])):
        assert int(option(args, "--concurrency", "-c")) >= accounts + 1


def test_both_beats_use_the_database_scheduler(run_procfile, compose):
    compose_beat = arguments(compose["services"]["beat"])

    assert compose_beat[:4] == run_procfile["beat"][:4] == ["celery", "-A", "magflow", "beat"]
    assert option(run_procfile["beat"], "--scheduler", "-S") == DATABASE_SCHEDULER
    assert option(compose_beat, "--scheduler", "-S") == DATABASE_SCHEDULER
    assert settings.CELERY_BEAT_SCHEDULER == DATABASE_SCHEDULER
    assert "deploy" not in compose["services"]["beat"]  # one beat, never replicated


def test_compose_prepares_the_database_as_make_run_does_before_anything_starts(
    compose, monkeypatch
):
    from django.core import management

    from emag_sync.management.commands import emag_bootstrap

    called = []
    monkeypatch.setattr(emag_bootstrap, "call_command", lambda name, **kw: called.append(name))
    monkeypatch.setattr(emag_bootstrap.Command, "_ensure_admin", lambda self, *args: None)
    management.call_command("emag_bootstrap", "--no-initial-sync")

    setup = compose["services"]["setup"]
    assert called == ["migrate", "setup_periodic_tasks"]
    assert manage_commands(setup) == called
    assert setup.get("restart") == "no"
    for name in ("web", "worker", "beat"):
        depends = compose["services"][name]["depends_on"]
        assert depends["setup"]["condition"] == "service_completed_successfully", name


def test_compose_runs_the_production_profile_on_postgresql_and_redis(compose):
    for name, service in app_services(compose).items():
        environment = service["environment"]
        assert environment["DEBUG"] == "0", name
        assert environment["DATABASE_URL"].startswith("postgres://"), name
        assert environment["CELERY_BROKER_URL"].startswith("redis://"), name
