"""Plain Django views of the app (the REST API lives in emag_sync/api).

Two ideas share the word "health": *liveness* is this view, `/health`, answered live from
two cheap probes for load balancers; a *health check* is the periodic, stored inspection of
accounts and sync freshness that raises alerts (services/health.py, `GET /emag/health`).
"""

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from emag_sync.observability.exposition import Access, metrics_access, web_scrape
from emag_sync.probes import probe_broker, probe_database


@never_cache
@require_safe
def liveness(request: HttpRequest) -> JsonResponse:
    """Answer whether the database and the broker are up: 200 when both are, else 503.

    Open to anyone (load balancers, uptime monitors), so it says up or down and nothing
    more: no hosts, versions or error text. The stored health checks hold the details.
    """
    database, broker = probe_database(), probe_broker()
    up = database.ok and broker.ok
    body = {
        "status": "ok" if up else "down",
        "database": "ok" if database.ok else "down",
        "broker": "ok" if broker.ok else "down",
    }
    return JsonResponse(body, status=200 if up else 503)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Serve the Prometheus metrics to a scraper with the token (see `metrics_access`)."""
    access = metrics_access(
        authorization=request.headers.get("Authorization", ""),
        remote_addr=request.META.get("REMOTE_ADDR", ""),
    )
    if access == Access.OFF:
        return HttpResponseNotFound("not found\n", content_type="text/plain")
    if access == Access.UNAUTHORISED:
        response = HttpResponse(
            "a bearer token (METRICS_TOKEN) is required\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(web_scrape(), content_type=CONTENT_TYPE_LATEST)
