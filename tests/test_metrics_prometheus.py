"""A real Prometheus scrapes a live web server and a live Celery worker after real syncs.

One worker (its own metrics port) and one gunicorn web server share a multiprocess folder, as
on one host; Prometheus (Debian's package, its own port and data folder) scrapes both. The
queries of the runbook, the dashboard and the alert rules then answer from that Prometheus.
"""

import json
import os
import shutil
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from emag_sync.models import (
    Conflict,
    ConflictStatus,
    HealthCheck,
    Offer,
    Order,
    OrderStatus,
    SyncKind,
    SyncRun,
)
from emag_sync.sandbox import Sandbox, start_in_thread
from emag_sync.tasks import health_check_task, sync_orders_task, sync_products_task
from tests.celery_processes import (
    CeleryProcess,
    child_environment,
    send,
    start_worker,
    wait_until,
)
from tests.conftest import _missing_service
from tests.metrics_support import (
    as_bool_comparison,
    dashboard_queries,
    grafana_variable,
    rule_expressions,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
OFFERS = {"main": 250, "fbe": 180}
ORDERS = {"main": 30, "fbe": 10}
TOKEN = "metrics-test-token"  # nosec B105  (a throwaway token of a test server)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prometheus_binary() -> str:
    binary = shutil.which("prometheus") or (
        "/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None
    )
    if not binary:
        _missing_service("Debian's prometheus is not installed (apt-get install prometheus)")
    return binary


def scrape(url: str) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # nosec B310  (loopback)
        return answer.read().decode()


def query(prometheus: str, expression: str) -> list[dict]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=10) as answer:  # nosec B310  (loopback)
        body = json.load(answer)
    assert body["status"] == "success", body
    return body["data"]["result"]


def scraped_both(prometheus: str) -> bool:
    """Return whether Prometheus is up, scrapes both targets and has the worker's runs."""
    try:
        return len(query(prometheus, "up == 1")) == 2 and bool(
            query(
                prometheus,
                'magflow_sync_runs_finished_total{job="magflow-worker",status="completed"} > 0',
            )
        )
    except OSError:
        return False


def values(result: list[dict], *labels: str) -> dict[tuple, float]:
    return {
        tuple(item["metric"].get(label) for label in labels): float(item["value"][1])
        for item in result
    }


@pytest.fixture(scope="module")
def stack(django_db_setup, broker_url, tmp_path_factory):
    """Start the sandbox, a worker and a web server sharing one multiprocess folder."""
    binary = prometheus_binary()
    folder = tmp_path_factory.mktemp("prometheus-multiproc")
    logs = tmp_path_factory.mktemp("metrics-logs")
    sandbox = start_in_thread(Sandbox(offers=OFFERS, orders=ORDERS, rate_limit=False))
    worker_port, web_port, prometheus_port = free_port(), free_port(), free_port()
    env = child_environment(
        broker_url,
        sandbox,
        PROMETHEUS_MULTIPROC_DIR=folder,
        METRICS_TOKEN=TOKEN,
        METRICS_WORKER_PORT=worker_port,
    )
    worker = start_worker(env, logs / "worker.log", concurrency=2, name="metrics")
    web = CeleryProcess(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "magflow.wsgi",
            "--bind",
            f"127.0.0.1:{web_port}",
            "--workers",
            "2",
        ],
        env,
        logs / "web.log",
    )
    wait_until(lambda: _answers(f"http://127.0.0.1:{web_port}/health"), timeout=30, what="gunicorn")
    config = logs / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{ROOT / 'docs' / 'prometheus' / 'alerts.yml'}]\n"
        "scrape_configs:\n"
        "  - job_name: magflow-web\n"
        f"    authorization: {{credentials: {TOKEN}}}\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{web_port}']}}]\n"
        "  - job_name: magflow-worker\n"
        f"    authorization: {{credentials: {TOKEN}}}\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{worker_port}']}}]\n"
    )
    prometheus = CeleryProcess(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={logs / 'data'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
        ],
        os.environ.copy(),
        logs / "prometheus.log",
    )
    try:
        yield {
            "broker_url": broker_url,
            "sandbox": sandbox.sandbox,
            "web": f"http://127.0.0.1:{web_port}",
            "worker": f"http://127.0.0.1:{worker_port}",
            "prometheus": f"http://127.0.0.1:{prometheus_port}",
        }
    finally:
        prometheus.stop()
        web.stop()
        worker.stop()
        sandbox.stop()


def _sample(exposition: str, name_and_labels: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(name_and_labels + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _post_connection_test(web: str) -> dict:
    from django.contrib.auth import get_user_model

    password = "metrics-test-password-1"  # nosec B105  (a throwaway user of a test server)
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    # The server checks with the default hasher, not the test process's fast one.
    user = get_user_model().objects.create_superuser("metrics", "metrics@example.com")
    user.password = PBKDF2PasswordHasher().encode(password, "metricssalt")
    user.save(update_fields=["password"])

    def call(path: str, body: dict | None, token: str = "") -> dict:
        request = urllib.request.Request(
            web + path,
            data=json.dumps(body or {}).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # nosec B310  (loopback)
            return json.load(answer)

    token = call("/api/v2/auth/login", {"username": "metrics", "password": password})["access"]
    return call("/api/v2/emag/products/test-connection?account_type=main", None, token)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # nosec B310  (loopback)
            return True
    except OSError:
        return False


def test_prometheus_scrapes_web_and_worker_and_answers_every_panel_and_rule(stack):
    # One 429, retried: the throttling panels and rule have a series to show.
    stack["sandbox"].inject_fault("main", "rate_limit", count=1, action="product_offer/read")
    send(sync_products_task, stack["broker_url"], kwargs={"account": "all", "mode": "full"})
    send(sync_orders_task, stack["broker_url"], kwargs={"account": "all"})
    wait_until(
        lambda: SyncRun.objects.filter(finished_at__isnull=False).count() >= 4,
        timeout=90,
        what="two offer runs and two order runs finished",
    )
    send(health_check_task, stack["broker_url"])
    wait_until(lambda: HealthCheck.objects.exists(), timeout=60, what="a health check")
    runs = list(SyncRun.objects.filter(finished_at__isnull=False))
    assert {(run.kind, run.account, run.status) for run in runs} >= {
        (SyncKind.OFFERS, "main", "completed"),
        (SyncKind.OFFERS, "fbe", "completed"),
        (SyncKind.ORDERS, "main", "completed"),
        (SyncKind.ORDERS, "fbe", "completed"),
    }

    # The worker's pool counted the runs; the web serves them too (one host, one folder).
    web_text, worker_text = scrape(stack["web"] + "/metrics"), scrape(stack["worker"] + "/metrics")
    finished = (
        'magflow_sync_runs_finished_total{account="main",status="completed",stream="offers"} 1.0'
    )
    assert finished in worker_text
    assert finished in web_text
    # A call the web process makes (a connection test) is counted there too.
    count_calls = 'magflow_emag_requests_total{account="main",action="count",resource="product_offer",status="200"}'
    before = _sample(web_text, count_calls)
    tested = _post_connection_test(stack["web"])
    assert tested["ok"] is True, tested
    assert _sample(scrape(stack["web"] + "/metrics"), count_calls) == before + 1
    # The database gauges are the web's alone.
    assert "magflow_offers{" in web_text and "magflow_offers{" not in worker_text

    prometheus = stack["prometheus"]
    wait_until(
        lambda: scraped_both(prometheus),
        timeout=60,
        what="Prometheus scraping both targets after the syncs",
    )

    by_status = values(
        query(
            prometheus,
            'sum by (account, stream, status) (magflow_sync_runs_finished_total{job="magflow-worker"})',
        ),
        "account",
        "stream",
        "status",
    )
    for run in runs:
        assert by_status[(run.account, run.kind, run.status)] >= 1
    requests = values(
        query(
            prometheus,
            'sum by (resource, action) (magflow_emag_requests_total{job="magflow-worker"})',
        ),
        "resource",
        "action",
    )
    assert requests[("product_offer", "read")] >= 5
    assert requests[("order", "read")] >= 2

    freshness = values(
        query(prometheus, 'magflow_sync_last_success_timestamp_seconds{job="magflow-web"}'),
        "account",
        "stream",
    )
    for run in runs:
        if run.status == "completed":
            newest = max(
                r.finished_at.timestamp()
                for r in runs
                if (r.account, r.kind, r.status) == (run.account, run.kind, "completed")
            )
            assert freshness[(run.account, run.kind)] == pytest.approx(newest, abs=0.001)

    offers = values(
        query(prometheus, 'sum by (account) (magflow_offers{job="magflow-web"})'), "account"
    )
    assert offers == {
        (account,): float(Offer.objects.filter(account=account).count()) for account in OFFERS
    }
    waiting = values(
        query(prometheus, 'magflow_orders_to_acknowledge{job="magflow-web"}'), "account"
    )
    for account in ORDERS:
        assert (
            waiting[(account,)]
            == Order.objects.filter(account=account, status=OrderStatus.NEW).count()
        )
    conflicts = values(query(prometheus, 'magflow_conflicts_open{job="magflow-web"}'), "account")
    assert sum(conflicts.values()) == Conflict.objects.filter(status=ConflictStatus.OPEN).count()

    # Range functions need two samples of every series: a few more scrapes.
    time.sleep(3)
    empty = [
        expression
        for expression in [
            *map(grafana_variable, dashboard_queries()),
            *map(as_bool_comparison, rule_expressions()),
        ]
        if not query(prometheus, expression)
    ]
    assert empty == [], f"these queries answered nothing: {empty}"
