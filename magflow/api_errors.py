"""The answer of an unknown API path, shared by both API versions."""

from django.http import JsonResponse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # it changes nothing, and a CSRF refusal would answer in HTML
def api_not_found(request, *args, **kwargs):
    """Answer an unknown API path in JSON, as the API answers everything else."""
    return JsonResponse({"detail": gettext("Not found.")}, status=404)
