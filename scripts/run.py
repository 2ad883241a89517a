"""Start MagFlow eMAG Sync locally: sandbox (when needed), web server, Celery worker and beat.

Called by `make run`. An account without EMAG_<NAME>_USERNAME in the environment or in
`.env` talks to the built-in eMAG sandbox, started here on SANDBOX_PORT; an account with
real credentials talks to eMAG.

The processes are supervised here, not by honcho (which stops every process when one exits):
a worker, beat, sandbox or web server that exits is started again after a bounded backoff
(1 s doubling to 30 s, back to 1 s once it ran a minute), with one log line saying so, and
the others keep running. Ctrl-C (or SIGTERM) stops web and beat first, then the worker,
which ends its current page and records its runs `interrupted` (10 s at most, then it is
killed: the checkpoint holds either way), then the sandbox; the script exits 0.
"""

import io
import logging
import os
import secrets
import shlex
import signal
import socket
import subprocess  # nosec B404  (starts the app's own processes, fixed argument lists)
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "magflow.settings")

from magflow.settings import _load_dotenv  # noqa: E402  (path set up above)

BIN = Path(sys.executable).parent
# The schedule lives in the database, editable in the admin (django-celery-beat).
BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# One worker serves both queues: offer syncs on one, orders, acknowledge and health on the
# other, so a long offer sync never holds up the 5-minute order sync.
WORKER_QUEUES = "emag_offers,emag_orders"

RESTART_BACKOFF_FIRST, RESTART_BACKOFF_MAX = 1.0, 30.0
# A process that ran this long before exiting starts again after the first backoff.
RESTART_STABLE_SECONDS = 60.0
# How long each process may take to stop before it is killed. The worker's warm shutdown
# lets each running sync end its page and record the run interrupted.
STOP_TIMEOUTS = {"web": 5.0, "beat": 5.0, "worker": 10.0, "sandbox": 5.0}
STOP_ORDER = ("web", "beat", "worker", "sandbox")
READY_TIMEOUT = 60.0
WORKER_READY = " ready."

# Third-party notices that mean nothing to a user of `make run` (the same every start).
QUIET_WARNINGS = ",".join(
    [
        "ignore::DeprecationWarning",
        "ignore::PendingDeprecationWarning",
        "ignore:No directory at:UserWarning",
    ]
)
QUIET_LINES = (
    "No hostname was supplied. Reverting to default",
    "Disabling prefetch limit",
    "is deprecated",
    "Watching for file changes",
    "WARNING: This is a development server.",
    "For production use a WSGI server instead.",
)


def sandbox_environment(port: int) -> list[str]:
    """Point every account without credentials at the sandbox; return their names."""
    from emag_sync.sandbox import sandbox_credentials

    names = [
        name.strip().lower()
        for name in os.environ.get("EMAG_ACCOUNTS", "main,fbe").split(",")
        if name.strip()
    ]
    sandboxed = []
    for name in names:
        prefix = f"EMAG_{name.upper()}_"
        if os.environ.get(prefix + "USERNAME"):
            continue
        username, password = sandbox_credentials(name)
        os.environ[prefix + "USERNAME"] = username
        os.environ[prefix + "PASSWORD"] = password
        os.environ[prefix + "API_URL"] = f"http://127.0.0.1:{port}/{name}/api-3"
        sandboxed.append(name)
    return sandboxed


def worker_concurrency(account_count: int) -> int:
    """Return worker processes enough for one offer sync per account plus two quick tasks."""
    return account_count + 2


def process_commands(
    *,
    port: int,
    sandbox_port: int,
    with_sandbox: bool,
    account_count: int = 2,
    sandbox_orders: str = "",
    sandbox_offers: str = "",
) -> dict[str, list[str]]:
    """Return the embedded profile's processes (name -> argument list), in start order."""
    python, celery = str(BIN / "python"), str(BIN / "celery")
    commands: dict[str, list[str]] = {}
    if with_sandbox:
        sandbox = [python, "manage.py", "emag_sandbox", "--port", str(sandbox_port)]
        if sandbox_orders:
            sandbox += ["--orders", sandbox_orders]
        if sandbox_offers:
            sandbox += ["--offers", sandbox_offers]
        commands["sandbox"] = sandbox
    commands["web"] = [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    # --quiet drops the start-up banners, so the box with the admin's password stays in view.
    commands["worker"] = [
        celery, "--quiet", "-A", "magflow", "worker", "-Q", WORKER_QUEUES,
        "--concurrency", str(worker_concurrency(account_count)),
        "--loglevel", "INFO", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    commands["beat"] = [celery, "--quiet", "-A", "magflow", "beat"]
    commands["beat"] += ["--scheduler", BEAT_SCHEDULER, "--loglevel", "INFO"]
    return commands


def procfile(**options) -> str:
    """Return the processes as Procfile lines (`name: command`), as docker-compose is read."""
    return "".join(
        f"{name}: {shlex.join(command)}\n" for name, command in process_commands(**options).items()
    )


def before_children_start() -> None:
    """Prepare what the processes share before any of them starts.

    The place for state a previous run may have left behind and every process must find
    fresh (a metrics folder, say). Nothing yet.
    """


def _log(message: str) -> None:
    Supervisor.print_line("magflow", message)


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = RESTART_BACKOFF_FIRST
    restart_at: float | None = None
    readers: list[threading.Thread] = field(default_factory=list)


class Supervisor:
    """Start the processes, restart any that exits, and stop them all in order."""

    _print_lock = threading.Lock()

    def __init__(self, commands: dict[str, list[str]], env: dict[str, str]):
        self.children = {name: Child(name, command) for name, command in commands.items()}
        self.env = env
        self.stopping = threading.Event()
        self.worker_ready = threading.Event()

    @classmethod
    def print_line(cls, name: str, line: str) -> None:
        with cls._print_lock:
            print(f"{datetime.now().astimezone():%H:%M:%S} {name:<7} | {line}", flush=True)

    def start(self, child: Child) -> None:
        # Own session: a Ctrl-C in the terminal reaches this script only, which then stops
        # the processes in order instead of all of them at once.
        child.process = subprocess.Popen(  # nosec B603  (fixed argument lists, no shell)
            child.command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        reader = threading.Thread(
            target=self._relay, args=(child.name, child.process.stdout), daemon=True
        )
        reader.start()
        child.readers.append(reader)
        _log(f"started {child.name} (pid {child.process.pid})")

    def _relay(self, name: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            if name == "worker" and WORKER_READY in line:
                self.worker_ready.set()
            if line and not any(quiet in line for quiet in QUIET_LINES):
                self.print_line(name, line)
        stream.close()

    def start_all(self, wait_for_ports: dict[str, int]) -> None:
        for child in self.children.values():
            self.start(child)
            port = wait_for_ports.get(child.name)
            if port and not self.wait_for_port(port):
                _log(f"{child.name} is not answering on port {port} yet")

    def wait_for_port(self, port: int, timeout: float = READY_TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping.is_set():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.2)
        return False

    def supervise_once(self) -> None:
        """Notice processes that exited and start them again when their backoff is over."""
        now = time.monotonic()
        for child in self.children.values():
            if child.process is None or self.stopping.is_set():
                continue
            if child.restart_at is None and child.process.poll() is not None:
                _kill_group(child.process)  # pool processes a killed worker left behind
                ran = now - child.started_at
                if ran >= RESTART_STABLE_SECONDS:
                    child.backoff = RESTART_BACKOFF_FIRST
                child.restart_at = now + child.backoff
                child.restarts += 1
                _log(
                    f"{child.name} exited with status {child.process.returncode} after "
                    f"{ran:.0f} s; restarting it in {child.backoff:.0f} s "
                    f"(restart {child.restarts})"
                )
                child.backoff = min(RESTART_BACKOFF_MAX, child.backoff * 2)
            elif child.restart_at is not None and now >= child.restart_at:
                self.start(child)

    def stop_all(self) -> None:
        """Stop web and beat, then the worker (its syncs end their page), then the sandbox."""
        self.stopping.set()
        for group in (("web", "beat"), ("worker",), ("sandbox",)):
            stopping = [self.children[name] for name in group if name in self.children]
            for child in stopping:
                if child.process is not None and child.process.poll() is None:
                    child.process.send_signal(signal.SIGTERM)
            for child in stopping:
                if child.process is None:
                    continue
                try:
                    child.process.wait(timeout=STOP_TIMEOUTS[child.name])
                except subprocess.TimeoutExpired:
                    _log(f"{child.name} did not stop in time; killing it")
                _kill_group(child.process)
                child.process.wait()
        for child in self.children.values():
            for reader in child.readers:
                reader.join(timeout=2)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def superseded_database_message(connection=None) -> str | None:
    """Return how to rebuild the database if migrations replaced since built it, else None.

    Asked before anything migrates: such a database is left exactly as it was.
    """
    import django

    django.setup()
    from django.db import connection as default_connection

    from emag_sync.schema_history import rebuild_instructions, superseded_migrations

    connection = connection or default_connection
    superseded = superseded_migrations(connection)
    return rebuild_instructions(connection, superseded) if superseded else None


def bootstrap(*, first_order_sync: bool) -> tuple[str, str | None]:
    """Migrate, seed the schedule, ensure the admin, queue first syncs; return user, password.

    The password is returned only when the admin user was created now.
    """
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
    chosen = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
    password = chosen or secrets.token_urlsafe(12)
    output = io.StringIO()
    arguments = ["--first-order-sync"] if first_order_sync else []
    call_command(
        "emag_bootstrap",
        *arguments,
        admin_username=username,
        admin_password=password,
        stdout=output,
    )
    for line in output.getvalue().splitlines():
        _log(line)
    user = get_user_model().objects.get(username=username)
    created_now = not chosen and user.check_password(password)
    return username, (password if created_now or chosen else None)


def welcome_box(*, url: str, username: str, password: str | None, chosen: bool) -> str:
    """Return the box printed once everything is up: where to go and how to log in."""
    if password is None:
        how_to_log_in = "unchanged (set when the user was created)"
    elif chosen:
        how_to_log_in = "the one in DJANGO_SUPERUSER_PASSWORD"
    else:
        how_to_log_in = f"{password}   (shown only this once)"
    lines = [
        "MagFlow eMAG Sync is running.",
        "",
        f"Admin:     {url}",
        f"User:      {username}",
        f"Password:  {how_to_log_in}",
        "",
        "Ctrl-C stops everything.",
    ]
    width = max(len(line) for line in lines) + 2
    rule = "+" + "-" * width + "+"
    return "\n".join([rule, *(f"| {line:<{width - 2}} |" for line in lines), rule])


def main() -> int:
    _load_dotenv(ROOT / ".env")
    port = int(os.environ.get("PORT", "8000"))
    sandbox_port = int(os.environ.get("SANDBOX_PORT", "8001"))
    sandboxed = sandbox_environment(sandbox_port)
    # Child processes must not re-read .env over what was decided here.
    os.environ["MAGFLOW_SKIP_DOTENV"] = "1"
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    os.environ.setdefault("PYTHONWARNINGS", QUIET_WARNINGS)
    (ROOT / "var").mkdir(exist_ok=True)
    # The sandbox has no orders unless asked, e.g. SANDBOX_ORDERS=main=300,fbe=120.
    sandbox_orders = os.environ.get("SANDBOX_ORDERS", "").strip() if sandboxed else ""

    stop_requested = threading.Event()

    def request_stop(signum, _frame) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    # kombu notes that `filesystem://` names no host: true, and nothing to act on.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    rebuild = superseded_database_message()
    if rebuild:
        for line in rebuild.splitlines():
            _log(line)
        return 2
    username, password = bootstrap(first_order_sync=bool(sandbox_orders))
    if stop_requested.is_set():
        return 0
    from emag_sync.accounts import get_accounts

    commands = process_commands(
        port=port,
        sandbox_port=sandbox_port,
        with_sandbox=bool(sandboxed),
        account_count=len(get_accounts()),
        sandbox_orders=sandbox_orders,
        sandbox_offers=os.environ.get("SANDBOX_OFFERS", "").strip() if sandboxed else "",
    )
    if sandboxed:
        _log(f"eMAG sandbox on http://127.0.0.1:{sandbox_port} for: {', '.join(sandboxed)}")
    real = [
        n
        for n in os.environ.get("EMAG_ACCOUNTS", "main,fbe").split(",")
        if n and n.lower() not in sandboxed
    ]
    if real:
        _log(f"Real eMAG accounts: {', '.join(real)}")

    before_children_start()
    supervisor = Supervisor(commands, dict(os.environ))
    supervisor.start_all(wait_for_ports={"sandbox": sandbox_port})
    supervisor.worker_ready.wait(READY_TIMEOUT)
    if not stop_requested.is_set() and supervisor.wait_for_port(port):
        box = welcome_box(
            url=f"http://127.0.0.1:{port}/admin/",
            username=username,
            password=password,
            chosen=bool(os.environ.get("DJANGO_SUPERUSER_PASSWORD")),
        )
        with Supervisor._print_lock:
            print("\n" + box + "\n", flush=True)
    while not stop_requested.wait(0.5):
        supervisor.supervise_once()
    _log("stopping: web and beat, then the worker (its syncs end their page), then the sandbox")
    supervisor.stop_all()
    _log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
