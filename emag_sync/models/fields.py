"""Model fields of our own, and the columns several models declare alike."""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models.expressions import Combinable
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

# Bytes of a payload's SHA-256 kept as its content hash (offers and orders).
CONTENT_HASH_BYTES = 16
# The largest value a BIGINT column (an eMAG id) holds: a longer number cannot be an id here,
# and asking the database for one would fail instead of finding nothing.
MAX_BIGINT = 2**63 - 1


class PayloadField(models.JSONField):
    """A JSON document kept whole: PostgreSQL `json` (checked text) instead of `jsonb`.

    eMAG's raw payloads are written with every change and only ever read back whole, never
    queried inside. PostgreSQL stores `json` as the text it is given, which costs far less
    than building `jsonb` (for a page of offers, a large part of the database's work) and
    keeps the document as it was sent. Elsewhere it is a plain JSONField.
    """

    def db_type(self, connection) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value: Any, expression, connection) -> Any:
        # The driver decodes `json` itself (Django asks it for the text of `jsonb` only).
        if value is None or not isinstance(value, str):
            return value
        return super().from_db_value(value, expression, connection)


def user_link(
    verbose_name: "StrOrPromise",
) -> "models.ForeignKey[User | Combinable | None, User | None]":
    """Return a link to the person who did something: emptied, not cascaded, when they go."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        verbose_name=verbose_name,
        on_delete=models.SET_NULL,
        related_name="+",
    )


# The columns of a document mirrored from eMAG (an offer, an order): each model calls these
# where the column stands in its table, so the columns keep their order.


def account_column() -> models.CharField:
    """Return the column naming the configured eMAG account a document belongs to."""
    return models.CharField(
        _("account"), max_length=32, help_text=_("Configured eMAG account name.")
    )


def read_warnings_column() -> models.JSONField:
    """Return the column listing the fields of a document that could not be read."""
    return models.JSONField(
        _("read warnings"),
        default=list,
        blank=True,
        help_text=_("Fields eMAG sent that could not be read (left empty)."),
    )


def payload_column() -> PayloadField:
    """Return the column keeping a document's payload exactly as eMAG sent it."""
    return PayloadField(
        _("raw payload"), default=dict, help_text=_("The payload exactly as eMAG sent it.")
    )


def content_hash_column() -> models.BinaryField:
    """Return the column of a payload's content hash, which tells a sync whether it changed."""
    return models.BinaryField(
        _("content hash"),
        max_length=CONTENT_HASH_BYTES,
        help_text=_("What eMAG sent, hashed: equal hashes, no change."),
    )
