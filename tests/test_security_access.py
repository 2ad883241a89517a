"""Nobody gets in who should not: every URL the project serves, walked from its URL conf.

A new endpoint is covered the day it is added: anonymous callers are refused everywhere but
the login, token refresh, schema, docs and /health; users without permissions may not trigger,
cancel, acknowledge, edit or resolve anything, through the API or the admin, and their attempts
change nothing, queue no task and make no eMAG call.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from celery.app.task import Task
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from rest_framework.test import APIClient

from emag_sync.models import (
    Conflict,
    EmagRequestLog,
    LocalEdit,
    Offer,
    Order,
    SyncRun,
    SyncState,
)

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at")]

# Every object a URL can name gets this primary key, so a URL with an id names a real object
# and a refusal is never a mere "not found".
ID = 4242
METHODS = ["get", "post", "put", "patch", "delete"]
PUBLIC = {
    "admin/login/",  # the login form itself
    "health",  # load balancers; answers only ok/down
    "api/v2/auth/login",
    "api/v2/auth/refresh",
    "api/v1/auth/login",
    "api/v1/auth/refresh-token",
    "api/schema/",
    "api/schema/v1/",
    "api/docs/",
    "i18n/setlang/",  # the language switch, on the login page too; it sets only a cookie
    "jsi18n/",  # the dashboard script's translations: the catalogue, no data
}
# Guarded by its own bearer token, not a login (tests/test_metrics.py).
OWN_TOKEN = {"metrics"}
# Answer unknown paths: "not found" for anybody, with nothing behind them.
CATCH_ALL = {"admin/nowhere", "api/v2/", "api/v1/"}
SAMPLE_ARGUMENTS = {"account": "main", "app_label": "emag_sync", "url": "nowhere"}


def _sample(name: str) -> str:
    return SAMPLE_ARGUMENTS.get(name, str(ID))


def _concrete(pattern) -> str:
    """Turn a route or regex into a path that matches it, with sample arguments."""
    text = str(pattern)
    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: _sample(match.group(1)), text)
    # A regex: each named group becomes its sample (app_label: one of its alternatives).
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda match: _sample(match.group(1)), text)
    return text.replace("^", "").replace("$", "").replace("\\", "")


def every_path(patterns=None, prefix: str = "") -> list[str]:
    """Return one concrete path per URL pattern of the project, admin and API included."""
    paths = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            paths += every_path(entry.url_patterns, prefix + _concrete(entry.pattern))
        else:
            assert isinstance(entry, URLPattern)
            path = prefix + _concrete(entry.pattern)
            paths.append(path or "nowhere")
    return paths


ALL_PATHS = every_path()
API_PATHS = [path for path in ALL_PATHS if path.startswith(("api/v2/emag/", "api/v1/emag/"))]
ADMIN_PATHS = [path for path in ALL_PATHS if path.startswith("admin/")]


def test_the_walk_finds_every_part_of_the_project():
    assert len(ALL_PATHS) > 100
    assert len(API_PATHS) >= 16
    for expected in (
        "admin/emag_sync/syncrun/dashboard/",
        f"admin/emag_sync/syncrun/{ID}/cancel/",
        f"admin/emag_sync/conflict/{ID}/resolve/",
        "admin/emag_sync/syncrun/dashboard/test-connection/main/",
        f"api/v2/emag/orders/{ID}/acknowledge",
        f"api/v1/emag/products/sync/{ID}",
        "api/v1/users/me",
        "admin/emag_sync/",
        "admin/nowhere",
        "api/v2/",
        "api/v1/",
    ):
        assert expected in ALL_PATHS


@pytest.fixture
def world(db, django_user_model):
    """One of every object a URL can name, all with the same id; and the schedule."""
    now = timezone.now()
    offer = Offer.objects.create(
        pk=ID,
        account="main",
        emag_id=ID,
        part_number="SKU-ACCESS",
        name="An offer",
        sale_price=Decimal("100.0000"),
        general_stock=3,
        content_hash=b"hash",
        synced_at=now,
        first_seen_at=now,
    )
    Conflict.objects.create(
        pk=ID,
        offer=offer,
        field="sale_price",
        base_value="100.0000",
        local_value="90.0000",
        emag_value="110.0000",
        detected_at=now,
    )
    LocalEdit.objects.create(pk=ID, offer=offer, field="sale_price", value="90.0000", edited_at=now)
    SyncRun.objects.create(pk=ID, account="fbe", kind="offers", mode="full", status="queued")
    SyncState.objects.create(pk=ID, account="main", stream="offers", mode="full", next_page=3)
    EmagRequestLog.objects.create(
        pk=ID, account="main", resource="product_offer", action="read", created_at=now
    )
    Order.objects.create(
        pk=ID,
        account="main",
        emag_id=ID,
        status=1,
        content_hash=b"hash",
        synced_at=now,
        first_seen_at=now - timedelta(days=1),
    )
    every_hour = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    PeriodicTask.objects.create(
        pk=ID, name="Every hour", task="emag_sync.cleanup", interval=every_hour
    )
    django_user_model.objects.create_user("victim", password="victim-password-1", pk=ID)


def snapshot() -> dict:
    """Everything a refused request must leave as it was."""
    return {
        "runs": list(SyncRun.objects.values_list("pk", "status", "cancel_requested")),
        "conflicts": list(Conflict.objects.values_list("pk", "status", "resolution")),
        "local edits": list(LocalEdit.objects.values_list("pk", "field", "value")),
        "offers": list(Offer.objects.values_list("pk", "local_notes", "custom_attributes")),
        "orders": list(Order.objects.values_list("pk", "status", "acknowledged_at")),
        "states": list(SyncState.objects.values_list("pk", "next_page")),
        "request log": EmagRequestLog.objects.count(),
        "schedule": list(PeriodicTask.objects.values_list("pk", "enabled", "task")),
        "users": list(get_user_model().objects.values_list("pk", "username", "is_staff")),
    }


@pytest.fixture
def nothing_leaves(monkeypatch):
    """Record every Celery task sent and refuse (and record) every outgoing HTTP call."""
    sent = []
    monkeypatch.setattr(Task, "apply_async", lambda task, *a, **k: sent.append(task.name))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as emag:
        yield {"tasks": sent, "emag": emag}


def assert_nothing_happened(before: dict, leaks: dict) -> None:
    assert snapshot() == before
    assert leaks["tasks"] == []
    assert len(leaks["emag"].calls) == 0


@pytest.mark.parametrize("method", METHODS)
def test_anonymous_callers_are_refused_everywhere_but_the_public_pages(
    world, nothing_leaves, method
):
    before = snapshot()
    client = APIClient()
    for path in ALL_PATHS:
        if path in PUBLIC or path in CATCH_ALL or path in OWN_TOKEN:
            continue
        response = getattr(client, method)(f"/{path}")
        if path.startswith("api/"):
            assert response.status_code == 401, (method, path, response.status_code)
            assert response["WWW-Authenticate"].startswith("Bearer"), path
        else:
            assert response.status_code == 302, (method, path, response.status_code)
            target = response["Location"]
            assert target.startswith("/admin/login/?next=") or (
                path == "admin/logout/" and target == "/admin/"
            ), (method, path, target)
    assert_nothing_happened(before, nothing_leaves)


def test_the_public_pages_answer_anonymous_callers_and_unknown_paths_show_nothing(world):
    client = APIClient()
    for path in ("admin/login/", "health", "api/schema/", "api/schema/v1/", "api/docs/"):
        assert client.get(f"/{path}").status_code in (200, 503), path  # /health: 503 when down
    assert client.post("/api/v2/auth/login", {}, format="json").status_code == 400
    assert client.post("/api/v2/auth/refresh", {}, format="json").status_code == 400
    assert client.post("/api/v1/auth/login", {}, format="json").status_code == 400
    assert client.post("/api/v1/auth/refresh-token", {}, format="json").status_code == 401
    for version in ("v1", "v2"):
        assert client.get(f"/api/{version}/nowhere").status_code == 404
    assert client.get("/admin/nowhere/").status_code == 302  # to the login, like any admin page


def make_user(django_user_model, username: str, *, staff: bool, permissions=()):
    user = django_user_model.objects.create_user(
        username, password=f"{username}-password-1", is_staff=staff
    )
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="emag_sync", codename__in=permissions)
    )
    return django_user_model.objects.get(pk=user.pk)


READ_PERMISSIONS = ["view_offer", "view_syncrun", "view_conflict", "view_order", "view_offerchange"]


@pytest.mark.parametrize("permissions", [(), READ_PERMISSIONS], ids=["no permission", "reader"])
def test_api_users_without_staff_status_or_a_permission_to_act_change_nothing(
    world, nothing_leaves, django_user_model, permissions
):
    user = make_user(django_user_model, "clerk", staff=False, permissions=permissions)
    client = APIClient()
    client.force_authenticate(user)
    before = snapshot()

    for path in API_PATHS:
        served = resolve(f"/{path}").func.cls().allowed_methods
        for method in ("post", "put", "patch", "delete") if permissions else METHODS:
            response = getattr(client, method)(f"/{path}", {}, format="json")
            # A method the endpoint does not serve at all may say so instead.
            refusals = (403,) if method.upper() in served else (403, 405)
            assert response.status_code in refusals, (method, path, response.status_code)

    assert_nothing_happened(before, nothing_leaves)


def test_users_who_are_not_staff_never_reach_the_admin(world, nothing_leaves, django_user_model):
    user = make_user(django_user_model, "clerk", staff=False, permissions=READ_PERMISSIONS)
    client = Client()
    client.force_login(user)
    before = snapshot()

    for path in ADMIN_PATHS:
        if path == "admin/login/":
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(f"/{path}")
            assert response.status_code == 302, (method, path, response.status_code)
            assert response["Location"].startswith("/admin/login/") or path == "admin/logout/"

    assert_nothing_happened(before, nothing_leaves)


def changelist_action(changelist: str, action: str) -> tuple[str, dict]:
    """Return the path and form of running `action` on object ID from an admin changelist."""
    return changelist, {"action": action, "_selected_action": [ID], "index": 0}


# What the admin lets a user do, each with the form data it posts.
ADMIN_ACTIONS = {
    # Valid forms: a refusal must come from the permission, not from a bad value.
    "start a sync": (
        "admin/emag_sync/syncrun/dashboard/",
        {"account": "main", "mode": "full", "conflict_strategy": "emag_priority"},
    ),
    "test a connection": ("admin/emag_sync/syncrun/dashboard/test-connection/main/", {}),
    "cancel a run": (f"admin/emag_sync/syncrun/{ID}/cancel/", {}),
    "edit an offer": (
        f"admin/emag_sync/offer/{ID}/change/",
        {"overlay_sale_price": "75", "local_notes": "mine", "custom_attributes": "{}"},
    ),
    "resolve a conflict": (f"admin/emag_sync/conflict/{ID}/resolve/", {"resolution": "keep_local"}),
    "resolve conflicts in bulk": changelist_action("admin/emag_sync/conflict/", "keep_local"),
    "drop a local value": changelist_action("admin/emag_sync/localedit/", "drop_local_values"),
    "edit a run": (f"admin/emag_sync/syncrun/{ID}/change/", {"status": "completed"}),
    "delete a run": (f"admin/emag_sync/syncrun/{ID}/delete/", {"post": "yes"}),
    "edit an order": (f"admin/emag_sync/order/{ID}/change/", {"status": 2}),
    "delete an order": (f"admin/emag_sync/order/{ID}/delete/", {"post": "yes"}),
    "acknowledge new orders": changelist_action("admin/emag_sync/order/", "acknowledge_new_orders"),
    "edit a checkpoint": (f"admin/emag_sync/syncstate/{ID}/change/", {"next_page": 1}),
    "disable a schedule": changelist_action(
        "admin/django_celery_beat/periodictask/", "disable_tasks"
    ),
    "run a schedule now": changelist_action("admin/django_celery_beat/periodictask/", "run_tasks"),
    "make a user staff": (
        f"admin/auth/user/{ID}/change/",
        {
            "username": "victim",
            "is_staff": "on",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    ),
}
# Records nobody edits by hand: the admin refuses these posts to superusers too.
READ_ONLY_FOR_EVERYONE = {
    "edit a run",
    "delete a run",
    "edit an order",
    "delete an order",
    "edit a checkpoint",
}


@pytest.mark.parametrize("action", ADMIN_ACTIONS)
def test_staff_who_may_only_look_cannot_act_in_the_admin(
    world, nothing_leaves, django_user_model, action
):
    viewer = make_user(
        django_user_model,
        "viewer",
        staff=True,
        permissions=[*READ_PERMISSIONS, "view_localedit", "view_syncstate", "view_emagrequestlog"],
    )
    client = Client()
    client.force_login(viewer)
    path, data = ADMIN_ACTIONS[action]
    before = snapshot()

    response = client.post(f"/{path}", data)

    # Refused outright, or the page again without acting (a bulk action it may not use).
    assert response.status_code in (403, 200, 302), response.status_code
    if response.status_code == 302:
        assert "/login/" not in response["Location"]
    assert_nothing_happened(before, nothing_leaves)


@pytest.mark.parametrize("action", sorted(set(ADMIN_ACTIONS) - READ_ONLY_FOR_EVERYONE))
def test_the_same_posts_do_act_for_a_superuser(world, nothing_leaves, django_user_model, action):
    """The refusals above come from the permissions, not from a post that could never work."""
    boss = django_user_model.objects.create_superuser("boss", password="boss-password-1")
    client = Client()
    client.force_login(boss)
    path, data = ADMIN_ACTIONS[action]
    before = snapshot()

    client.post(f"/{path}", data)

    acted = snapshot() != before or nothing_leaves["tasks"] or len(nothing_leaves["emag"].calls) > 0
    assert acted, action
