"""Production mode (DEBUG=0): `check --deploy` is clean; HTTPS, HSTS, secure cookies and the
Content-Security-Policy are on, and the pages it covers have nothing inline for it to block.

The settings module is read in a child process with the production environment, exactly as a
server starts; responses are then checked here with the security settings it produced.
"""

import json
import os
import re
import secrets
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.admin_support import make_offers, make_overlay, make_runs
from tests.conftest import run_python

pytestmark = pytest.mark.filterwarnings("ignore:No directory at")

ROOT = Path(__file__).resolve().parent.parent
HOST = "magflow.example.com"
SECURITY_SETTINGS = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SECURE",
    "X_FRAME_OPTIONS",
    "CONTENT_SECURITY_POLICY",
    "MIDDLEWARE",
]
DUMP_SETTINGS = f"""
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({{name: getattr(settings, name, None) for name in {SECURITY_SETTINGS!r}}}))
"""
# A <script> that runs code written in the page (not a src=, not a JSON data block), an
# on...= event handler, or a javascript: URL: what script-src 'self' blocks.
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>\s*\S"
    r"|<[^>]+\son[a-z]+\s*="
    r"|javascript:",
    re.IGNORECASE,
)


def production_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MAGFLOW_SKIP_DOTENV="1",
        DJANGO_SETTINGS_MODULE="magflow.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
    )
    # Development overrides, and the browser tests' switch for Playwright's event loop.
    for name in (
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "CSP_REPORT_URI",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    ):
        env.pop(name, None)
    env.update(overrides)
    return env


@pytest.fixture(scope="module")
def production_settings() -> dict:
    """The security settings a server started with DEBUG=0 ends up with."""
    result = run_python(["-c", DUMP_SETTINGS], production_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def in_production(settings, production_settings):
    """Apply production mode's security settings to this process (static files stay as in
    development: the manifest storage would need collectstatic)."""
    for name, value in production_settings.items():
        if name != "DEBUG":
            setattr(settings, name, tuple(value) if name == "SECURE_PROXY_SSL_HEADER" else value)
    settings.ALLOWED_HOSTS = [HOST]
    return settings


def test_check_deploy_finds_nothing_to_warn_about_in_production_mode():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env()
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_when_production_mode_is_weakened():
    weakened = production_env(SECURE_HSTS_SECONDS="0", SECURE_SSL_REDIRECT="0")

    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], weakened)

    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS
    assert "security.W008" in result.stderr  # no redirect to HTTPS


def test_production_mode_turns_on_https_hsts_secure_cookies_and_the_policy(production_settings):
    values = production_settings

    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert "csp.middleware.CSPMiddleware" in values["MIDDLEWARE"]
    directives = values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no inline script, no eval, no CDN
    assert directives["style-src-elem"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


def test_a_csp_report_uri_is_taken_from_the_environment():
    result = run_python(
        ["-c", DUMP_SETTINGS], production_env(CSP_REPORT_URI="https://reports.example.com/csp")
    )

    directives = json.loads(result.stdout)["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert directives["report-uri"] == ["https://reports.example.com/csp"]


@pytest.mark.django_db
def test_production_answers_redirect_to_https_and_carry_hsts_the_policy_and_secure_cookies(
    in_production, django_user_model
):
    django_user_model.objects.create_superuser("boss", password="boss-password-1")
    client = Client(HTTP_HOST=HOST)

    plain = client.get("/admin/login/")
    assert plain.status_code == 301
    assert plain["Location"] == f"https://{HOST}/admin/login/"
    assert client.get("/health").status_code in (200, 503)  # load balancers probe plain HTTP

    login_page = client.get("/admin/login/", secure=True)
    assert login_page.status_code == 200
    assert login_page["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert "script-src 'self'" in login_page["Content-Security-Policy"]
    assert login_page["X-Frame-Options"] == "DENY"
    assert login_page["X-Content-Type-Options"] == "nosniff"
    assert login_page.cookies["csrftoken"]["secure"]

    logged_in = client.post(
        "/admin/login/",
        {"username": "boss", "password": "boss-password-1", "next": "/admin/"},
        secure=True,
    )
    assert logged_in.status_code == 302
    session = logged_in.cookies["sessionid"]
    assert session["secure"] and session["httponly"]


@pytest.fixture
def populated(db, django_user_model):
    run = make_runs(3)[0]
    offers = make_offers("main", 12) + make_offers("fbe", 5, first_id=1000)
    make_overlay(offers, run=run)
    call_command("setup_periodic_tasks", verbosity=0)
    return django_user_model.objects.create_superuser("boss", password="boss-password-1")


def pages_under_the_policy() -> list[str]:
    from django_celery_beat.models import PeriodicTask

    from emag_sync.models import Conflict, Offer, SyncRun

    return [
        reverse("admin:index"),
        reverse("admin:app_list", args=["emag_sync"]),
        reverse("admin:emag_sync_dashboard"),
        reverse("admin:emag_sync_offer_changelist"),
        reverse("admin:emag_sync_offer_change", args=[Offer.objects.latest("pk").pk]),
        reverse("admin:emag_sync_conflict_changelist"),
        reverse("admin:emag_sync_conflict_change", args=[Conflict.objects.latest("pk").pk]),
        reverse("admin:emag_sync_syncrun_changelist"),
        reverse("admin:emag_sync_syncrun_change", args=[SyncRun.objects.latest("pk").pk]),
        reverse("admin:emag_sync_emagrequestlog_changelist"),
        reverse("admin:emag_sync_localedit_changelist"),
        reverse("admin:emag_sync_order_changelist"),
        reverse("admin:django_celery_beat_periodictask_changelist"),
        reverse(
            "admin:django_celery_beat_periodictask_change", args=[PeriodicTask.objects.first().pk]
        ),
        reverse("admin:auth_user_changelist"),
        reverse("api-docs"),
    ]


def test_every_page_carries_the_policy_and_runs_no_inline_script(populated, settings):
    client = Client()
    client.force_login(populated)
    expected = None

    for path in pages_under_the_policy():
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response["Content-Security-Policy"]
        assert expected is None or policy == expected, path
        expected = policy
        html = response.content.decode()
        assert INLINE_SCRIPT.findall(html) == [], path
        assert "<style" not in html, path  # style-src-elem 'self': no style elements

    assert "'unsafe-eval'" not in expected
    assert re.search(r"script-src 'self'(;|$)", expected)


def test_the_swagger_ui_gets_its_start_up_script_as_a_file(db):
    page = Client().get(reverse("api-docs")).content.decode()
    script_url = re.search(r'<script src="(/api/docs/\?[^"]*script=[^"]*)"', page).group(1)

    script = Client().get(script_url.replace("&amp;", "&"))

    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content
