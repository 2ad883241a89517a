"""Open, follow and resolve alert incidents, notifying people once per incident.

Each problem the health check reports has a stable key (`account:main`, `stale:fbe:orders`,
`run:main:offers`). The first check that sees a key opens an incident: an ERROR is logged and
the alert goes to ADMINS by e-mail (`mail_admins`) and, when ALERT_WEBHOOK_URL is set, to that
URL as a JSON POST. Later checks that still see it only update the incident, so a problem
lasting a day is one alert, not one per tick. The first check that no longer sees it resolves
the incident and sends a short "resolved" notice the same ways.
"""

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

import requests
from django.conf import settings
from django.core.mail import mail_admins
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from emag_sync.models import AlertIncident

logger = logging.getLogger(__name__)

# A webhook receiver that hiccups gets two more chances; alerts must not hang the check.
WEBHOOK_ATTEMPTS = 3
WEBHOOK_RETRY_DELAY_SECONDS = 1.0
WEBHOOK_SOURCE = "magflow-emag-sync"


class AlertEvent:
    OPENED = "opened"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Problem:
    """Something wrong that a person should hear about, named by a stable key."""

    key: str
    kind: str
    message: str
    account: str = ""
    stream: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class AlertOutcome:
    opened: list[AlertIncident] = field(default_factory=list)
    resolved: list[AlertIncident] = field(default_factory=list)
    ongoing: list[AlertIncident] = field(default_factory=list)


def alert_incidents_update(*, problems: list[Problem], now: datetime | None = None) -> AlertOutcome:
    """Open incidents for new problems, resolve vanished ones, and notify about both."""
    now = now or timezone.now()
    outcome = AlertOutcome()
    current = {problem.key: problem for problem in problems}
    open_incidents = {
        incident.key: incident
        for incident in AlertIncident.objects.filter(resolved_at__isnull=True)
    }
    for key, problem in current.items():
        incident = open_incidents.get(key)
        if incident is None:
            opened = _incident_open(problem, now)
            if opened is not None:
                outcome.opened.append(opened)
            continue
        AlertIncident.objects.filter(pk=incident.pk).update(
            last_seen_at=now, message=problem.message
        )
        outcome.ongoing.append(incident)
    for key, incident in open_incidents.items():
        if key in current:
            continue
        # Conditional, so two checks racing resolve (and announce) it once.
        if AlertIncident.objects.filter(pk=incident.pk, resolved_at__isnull=True).update(
            resolved_at=now
        ):
            incident.resolved_at = now
            logger.info("Resolved: %s (open since %s)", incident.message, incident.opened_at)
            alert_notify(incident=incident, event=AlertEvent.RESOLVED)
            outcome.resolved.append(incident)
    return outcome


def _incident_open(problem: Problem, now: datetime) -> AlertIncident | None:
    try:
        with transaction.atomic():
            incident = AlertIncident.objects.create(
                key=problem.key,
                kind=problem.kind,
                account=problem.account,
                stream=problem.stream,
                message=problem.message,
                opened_at=now,
                last_seen_at=now,
            )
    except IntegrityError:
        return None  # a concurrent check opened it first, and alerts on it
    logger.error("Alert: %s", problem.message)
    alert_notify(incident=incident, event=AlertEvent.OPENED)
    AlertIncident.objects.filter(pk=incident.pk).update(notified_at=timezone.now())
    return incident


def alert_notify(*, incident: AlertIncident, event: str) -> None:
    """Send one incident event by e-mail to ADMINS and to the webhook; log what fails.

    People read these in the installation's language (LANGUAGE_CODE), whoever's request
    raised the alert; the webhook's keys and values other than `text` never change.
    """
    with translation.override(settings.LANGUAGE_CODE):
        subject = (
            gettext("Alert: %(message)s")
            if event == AlertEvent.OPENED
            else gettext("Resolved: %(message)s")
        ) % {"message": incident.message}
        body = _mail_body(incident, event)
        payload = _webhook_payload(incident, event)
    try:
        mail_admins(subject[:200], body, fail_silently=False)
    except Exception:  # SMTP errors come in many types; the webhook must still go out
        logger.exception("Could not e-mail the %s alert %s", event, incident.key)
    if settings.ALERT_WEBHOOK_URL:
        _webhook_post(settings.ALERT_WEBHOOK_URL, payload)


def _mail_body(incident: AlertIncident, event: str) -> str:
    lines = [
        incident.message,
        "",
        gettext("Kind: %(kind)s") % {"kind": incident.get_kind_display()},
        gettext("Opened: %(moment)s") % {"moment": f"{incident.opened_at:%Y-%m-%d %H:%M:%S %Z}"},
    ]
    if incident.account:
        lines.append(gettext("Account: %(account)s") % {"account": incident.account})
    if incident.stream:
        lines.append(gettext("Stream: %(stream)s") % {"stream": incident.stream})
    if event == AlertEvent.RESOLVED and incident.resolved_at:
        moment = f"{incident.resolved_at:%Y-%m-%d %H:%M:%S %Z}"
        lines.append(gettext("Resolved: %(moment)s") % {"moment": moment})
    else:
        lines += ["", gettext("You get one message when this starts and one when it is over.")]
    return "\n".join(lines)


def _webhook_payload(incident: AlertIncident, event: str) -> dict:
    text = (
        gettext("MagFlow eMAG Sync Alert: %(message)s")
        if event == AlertEvent.OPENED
        else gettext("MagFlow eMAG Sync Resolved: %(message)s")
    ) % {"message": incident.message}
    return {
        "source": WEBHOOK_SOURCE,
        "event": event,
        # Chat webhooks (Slack, Mattermost, Teams via a connector) display this field as is.
        "text": text,
        "incident": {
            "id": incident.pk,
            "key": incident.key,
            "kind": incident.kind,
            "account": incident.account,
            "stream": incident.stream,
            "message": incident.message,
            "opened_at": incident.opened_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        },
    }


def _webhook_post(url: str, payload: dict) -> None:
    for attempt in range(1, WEBHOOK_ATTEMPTS + 1):
        try:
            response = requests.post(url, json=payload, timeout=settings.ALERT_WEBHOOK_TIMEOUT)
            response.raise_for_status()
            return
        except requests.RequestException as error:
            if attempt == WEBHOOK_ATTEMPTS:
                # The URL may carry a token: name the incident, not the address.
                logger.error(
                    "Could not post the %s alert %s to ALERT_WEBHOOK_URL: %s",
                    payload["event"],
                    payload["incident"]["key"],
                    type(error).__name__,
                )
                return
            time.sleep(WEBHOOK_RETRY_DELAY_SECONDS * attempt)
