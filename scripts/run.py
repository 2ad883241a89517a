"""Start MagFlow eMAG Sync locally: sandbox (when needed), web server, Celery worker and beat.

Called by `make run`. An account without EMAG_<NAME>_USERNAME in the environment or in
`.env` talks to the built-in eMAG sandbox, started here on SANDBOX_PORT; an account with
real credentials talks to eMAG. Ctrl-C stops every process.
"""

import os
import shlex
import shutil
import sys
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


def procfile(
    *,
    port: int,
    sandbox_port: int,
    with_sandbox: bool,
    account_count: int = 2,
    sandbox_orders: str = "",
) -> str:
    """Return the Procfile of the embedded profile; `sandbox_orders` sizes its orders."""
    python = BIN / "python"
    celery = BIN / "celery"
    concurrency = worker_concurrency(account_count)
    lines = [
        f"web: {python} manage.py runserver 127.0.0.1:{port} --noreload",
        f"worker: {celery} -A magflow worker -Q {WORKER_QUEUES} --concurrency {concurrency} "
        "--loglevel INFO --without-gossip --without-mingle",
        f"beat: {celery} -A magflow beat --scheduler {BEAT_SCHEDULER} --loglevel INFO",
    ]
    if with_sandbox:
        orders = f" --orders {shlex.quote(sandbox_orders)}" if sandbox_orders else ""
        lines.insert(0, f"sandbox: {python} manage.py emag_sandbox --port {sandbox_port}{orders}")
    return "\n".join(lines) + "\n"


def main() -> None:
    _load_dotenv(ROOT / ".env")
    port = int(os.environ.get("PORT", "8000"))
    sandbox_port = int(os.environ.get("SANDBOX_PORT", "8001"))
    sandboxed = sandbox_environment(sandbox_port)
    # Child processes must not re-read .env over what was decided here.
    os.environ["MAGFLOW_SKIP_DOTENV"] = "1"
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    (ROOT / "var").mkdir(exist_ok=True)

    import django

    django.setup()
    from django.core.management import call_command

    from emag_sync.accounts import get_accounts

    call_command("emag_bootstrap")
    path = ROOT / "var" / "Procfile"
    path.write_text(
        procfile(
            port=port,
            sandbox_port=sandbox_port,
            with_sandbox=bool(sandboxed),
            account_count=len(get_accounts()),
            # The sandbox has no orders unless asked, e.g. SANDBOX_ORDERS=main=300,fbe=120.
            sandbox_orders=os.environ.get("SANDBOX_ORDERS", "").strip(),
        )
    )
    if sandboxed:
        print(f"eMAG sandbox on http://127.0.0.1:{sandbox_port} for: {', '.join(sandboxed)}")
    real = [
        n
        for n in os.environ.get("EMAG_ACCOUNTS", "main,fbe").split(",")
        if n and n.lower() not in sandboxed
    ]
    if real:
        print(f"Real eMAG accounts: {', '.join(real)}")
    print(f"\n  Admin: http://127.0.0.1:{port}/admin/\n  Ctrl-C stops everything.\n", flush=True)
    # honcho would let .env override the environment decided above: give it an empty one.
    empty_env = ROOT / "var" / "honcho.env"
    empty_env.write_text("")
    honcho = shutil.which("honcho", path=str(BIN)) or str(BIN / "honcho")
    # Execs honcho from the project venv with fixed arguments.
    os.execv(  # nosec B606
        honcho,
        [honcho, "start", "--no-colour", "-f", str(path), "-d", str(ROOT), "-e", str(empty_env)],
    )


if __name__ == "__main__":
    main()
