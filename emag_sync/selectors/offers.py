"""Reads of offers, their local overlay, conflicts and change history."""

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Upper

from emag_sync.models import (
    Conflict,
    ConflictStatus,
    LocalEdit,
    Offer,
    OfferChange,
    OfferPush,
    OfferStatus,
    PushState,
    SyncKind,
    SyncRun,
    SyncStatus,
)
from emag_sync.models.fields import MAX_BIGINT
from emag_sync.models.search import Folded
from emag_sync.selectors.runs import FINISHED_STATUSES, sync_run_last_successful

# EANs (GTIN-8 to GTIN-14) have 8 to 14 digits; other numbers skip the EAN lookup.
EAN_DIGITS = range(8, 15)
# Columns the API never shows: the raw payload is the largest part of an offer row.
OFFER_COLUMNS_NOT_SHOWN = ("raw",)
# How many finished runs the statistics' success rate and throughput look back on.
RECENT_RUNS_FOR_STATISTICS = 20


def offer_list(*, account: str | None = None) -> QuerySet[Offer]:
    """Return offers, optionally of one account, in a stable order."""
    offers = Offer.objects.all()
    if account:
        offers = offers.filter(account=account)
    return offers.order_by("account", "emag_id")


def offer_list_with_overlay() -> QuerySet[Offer]:
    """Return offers with their local edits (`local_edit_list`) and an open-conflict flag.

    Everything a list of offers shows comes in a fixed number of queries, whatever its length.
    """
    open_conflicts = Conflict.objects.filter(offer=OuterRef("pk"), status=ConflictStatus.OPEN)
    local_edits = LocalEdit.objects.select_related("edited_by").order_by("field")
    return (
        Offer.objects.defer(*OFFER_COLUMNS_NOT_SHOWN)
        .annotate(has_open_conflicts=Exists(open_conflicts))
        # An attribute, not the related manager's cache: Django then skips building a
        # filtered queryset for every offer of the page.
        .prefetch_related(
            Prefetch("local_edits", queryset=local_edits, to_attr="local_edit_list"),
            _current_push_prefetch(),
        )
        .order_by("account", "emag_id")
    )


def _current_push_prefetch() -> Prefetch:
    # One row an offer at most (the current push), so one query a page.
    return Prefetch(
        "pushes",
        queryset=OfferPush.objects.filter(is_current=True)
        .order_by()
        .only("id", "offer_id", "state", "messages", "finished_at"),
        to_attr="current_push_list",
    )


def offer_current_push(offer: Offer) -> OfferPush | None:
    """Return the push an offer's push state shows (prefetched by the list selectors).

    None when nothing was ever pushed, or the last push had nothing left to send.
    """
    pushes = getattr(offer, "current_push_list", None)
    if pushes is None:
        pushes = list(OfferPush.objects.filter(offer=offer, is_current=True))
    push = pushes[0] if pushes else None
    return None if push is None or push.state == PushState.DROPPED else push


def offer_has_push_state(state: str) -> Exists:
    """A condition for offers whose current push is in a state."""
    return Exists(OfferPush.objects.filter(offer=OuterRef("pk"), is_current=True, state=state))


def offer_get(*, offer_id: int) -> Offer:
    """Return one offer with its overlay and open conflicts, or raise Offer.DoesNotExist."""
    open_conflicts = Conflict.objects.filter(status=ConflictStatus.OPEN).order_by("field")
    return (
        offer_list_with_overlay()
        # One offer shows everything, the parts read from its payload included.
        .defer(None)
        .prefetch_related(Prefetch("conflicts", queryset=open_conflicts, to_attr="open_conflicts"))
        .get(pk=offer_id)
    )


def offer_search(*, offers: QuerySet[Offer], term: str) -> QuerySet[Offer]:
    """Narrow offers to those matching a search term, each way through an index.

    A term matches an offer's PNK exactly (any case), any part of its SKU (any case), every
    word of its name (any case, with or without diacritics: `cafetiera` finds `Cafetieră`,
    `şurub` finds `șurub`), and, when it is a number, its eMAG id or one of its EANs. On
    PostgreSQL every branch has an index (migration 0002_postgresql: trigrams for the SKU and
    the name), so the OR combines index scans and holds at hundreds of thousands
    of offers.
    """
    term = term.strip()
    if not term:
        return offers
    # The stored upper-case columns are compared with the term upper-cased (and, for the
    # name, folded) by the same database expression, so both sides agree on every letter.
    name_matches = name_words_match("name_search", term)
    upper_term = Upper(Value(term))
    matches = (
        Q(part_number_key_search=upper_term)
        | Q(part_number_search__contains=upper_term)
        | name_matches
    )
    if term.isascii() and term.isdigit():
        number = int(term)
        if number <= MAX_BIGINT:
            matches |= Q(emag_id=number)
        if len(term) in EAN_DIGITS:
            matches |= _has_ean(term)
    return offers.filter(matches)


def name_words_match(folded_field: str, term: str) -> Q:
    """Match rows whose folded column (models.search.Folded) holds every word of the term."""
    matches = Q()
    for word in term.split():
        matches &= Q(**{f"{folded_field}__contains": Folded(Value(word))})
    return matches


def conflict_search(*, conflicts: QuerySet[Conflict], term: str) -> QuerySet[Conflict]:
    """Narrow conflicts to those whose offer has each word in its SKU or (folded) its name."""
    matches = Q()
    for word in term.split():
        matches &= Q(offer__part_number__icontains=word) | name_words_match(
            "offer__name_search", word
        )
    return conflicts.filter(matches)


def _has_ean(ean: str) -> Q:
    """Match offers that list this EAN among theirs."""
    if connection.vendor == "postgresql":
        # Containment, which the GIN index on the EANs answers (migration 0002_postgresql).
        return Q(ean__contains=[ean])
    # Elsewhere the stored JSON text, where each EAN stands quoted: a whole one, never a part.
    return Q(ean__icontains=f'"{ean}"')


def offer_change_list(*, offer_id: int) -> QuerySet[OfferChange]:
    """Return an offer's change history, newest first; raise Offer.DoesNotExist if no offer."""
    if not Offer.objects.filter(pk=offer_id).exists():
        raise Offer.DoesNotExist(f"no offer #{offer_id}")
    return OfferChange.objects.filter(offer_id=offer_id).order_by("-changed_at", "-id")


def offer_statistics(*, accounts: list[str]) -> dict:
    """Return offer counts, stock and conflicts per account, and how recent syncs went.

    Counts cover offers eMAG still returns; offers a full pass no longer saw are `missing`.
    """
    present = Q(missing_since__isnull=True)
    per_account = {name: _empty_account_statistics(name) for name in accounts}
    rows = (
        Offer.objects.values("account", "status")
        .annotate(
            offers=Count("pk", filter=present),
            in_stock=Count("pk", filter=present & Q(general_stock__gt=0)),
            stock_total=Sum("general_stock", filter=present),
            missing=Count("pk", filter=~present),
        )
        .order_by()
    )
    status_keys: dict[int | None, str] = {
        OfferStatus.ACTIVE: "active",
        OfferStatus.INACTIVE: "inactive",
        OfferStatus.END_OF_LIFE: "end_of_life",
    }
    for row in rows:
        # Offers of an account no longer configured still count: they are still stored.
        entry = per_account.setdefault(row["account"], _empty_account_statistics(row["account"]))
        entry["offers"] += row["offers"]
        entry["in_stock"] += row["in_stock"]
        entry["stock_total"] += row["stock_total"] or 0
        entry["missing"] += row["missing"]
        status_key = status_keys.get(row["status"])
        if status_key:
            entry[status_key] += row["offers"]
    open_conflicts = (
        Conflict.objects.filter(status=ConflictStatus.OPEN)
        .values("offer__account")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for conflict_row in open_conflicts:
        if conflict_row["offer__account"] in per_account:
            per_account[conflict_row["offer__account"]]["open_conflicts"] = conflict_row["count"]
    for name, entry in per_account.items():
        entry["last_successful_sync"] = sync_run_last_successful(account=name)

    recent = list(
        SyncRun.objects.filter(kind=SyncKind.OFFERS, status__in=FINISHED_STATUSES).order_by(
            "-finished_at", "-id"
        )[:RECENT_RUNS_FOR_STATISTICS]
    )
    return {
        "total_products": sum(entry["offers"] for entry in per_account.values()),
        "products_by_account": {name: entry["offers"] for name, entry in per_account.items()},
        "open_conflicts": sum(entry["open_conflicts"] for entry in per_account.values()),
        "accounts": list(per_account.values()),
        "recent_runs": _recent_runs_summary(recent),
    }


def _empty_account_statistics(account: str) -> dict:
    return {
        "account_type": account,
        "offers": 0,
        "active": 0,
        "inactive": 0,
        "end_of_life": 0,
        "in_stock": 0,
        "stock_total": 0,
        "missing": 0,
        "open_conflicts": 0,
        "last_successful_sync": None,
    }


def _recent_runs_summary(runs: list[SyncRun]) -> dict:
    by_status: dict[str, int] = {status: 0 for status in FINISHED_STATUSES}
    for run in runs:
        by_status[run.status] += 1
    # A cancelled run was stopped by a person, an interrupted one by a shutdown: neither
    # says anything about whether syncs work.
    judged = len(runs) - by_status[SyncStatus.CANCELLED] - by_status[SyncStatus.INTERRUPTED]
    timed = [run for run in runs if run.duration_seconds]
    seconds = sum(run.duration_seconds or 0.0 for run in timed)
    return {
        "runs": len(runs),
        **{str(status): count for status, count in by_status.items()},
        "success_rate": round(by_status[SyncStatus.COMPLETED] / judged, 3) if judged else None,
        "items_per_second": (
            round(sum(run.items_seen for run in timed) / seconds, 1) if seconds else None
        ),
    }


def push_list() -> QuerySet[OfferPush]:
    """Return every push of every offer, newest first, with its offer and requester."""
    return (
        OfferPush.objects.select_related("offer", "requested_by")
        .only(
            *(f.name for f in OfferPush._meta.concrete_fields),
            "offer__emag_id",
            "offer__part_number",
            "requested_by__username",
        )
        .order_by("-requested_at", "-id")
    )


def conflict_list() -> QuerySet[Conflict]:
    """Return conflicts, newest first, with their offer and resolver in the same query."""
    return (
        Conflict.objects.select_related("offer", "resolved_by")
        .defer(*(f"offer__{column}" for column in OFFER_COLUMNS_NOT_SHOWN))
        .order_by("-detected_at", "-id")
    )


def conflict_get(*, conflict_id: int) -> Conflict:
    """Return one conflict with its offer and resolver, or raise Conflict.DoesNotExist."""
    return conflict_list().get(pk=conflict_id)


def conflict_open_count() -> int:
    return Conflict.objects.filter(status=ConflictStatus.OPEN).count()


def offer_local_values_prefetch(offers: QuerySet[Offer]) -> QuerySet[Offer]:
    """Return the offers with their local values prefetched as `overlay_edits`: one query."""
    return offers.prefetch_related(_local_values_prefetch())


def _local_values_prefetch() -> Prefetch:
    return Prefetch(
        "local_edits",
        queryset=LocalEdit.objects.order_by().only("offer_id", "field", "value"),
        to_attr="overlay_edits",
    )


def offer_overlay_prefetch(offers: QuerySet[Offer] | None = None) -> QuerySet[Offer]:
    """Return offers (all, or the given ones) with local values and open conflicts prefetched.

    Three extra queries per page, whatever its size. Per-row subqueries in the SELECT would
    be evaluated for every row an OFFSET skips, and they inflate PostgreSQL's cost estimate
    enough to switch on JIT compilation, which costs more than the query.
    """
    return (Offer.objects.all() if offers is None else offers).prefetch_related(
        _local_values_prefetch(),
        Prefetch(
            "conflicts",
            queryset=Conflict.objects.filter(status=ConflictStatus.OPEN)
            .order_by()
            .only("offer_id", "field"),
            to_attr="open_conflict_list",
        ),
        _current_push_prefetch(),
    )


def offer_has_local_edits() -> Exists:
    """A condition for offers filtered on having a local value."""
    return Exists(LocalEdit.objects.filter(offer=OuterRef("pk")))


def offer_has_open_conflicts() -> Exists:
    """A condition for offers filtered on having an open conflict."""
    return Exists(Conflict.objects.filter(offer=OuterRef("pk"), status=ConflictStatus.OPEN))


def offer_local_edits(*, offer: Offer) -> QuerySet[LocalEdit]:
    return LocalEdit.objects.filter(offer=offer).select_related("edited_by").order_by("field")


def offer_open_conflicts(*, offer: Offer) -> QuerySet[Conflict]:
    return Conflict.objects.filter(offer=offer, status=ConflictStatus.OPEN).order_by("field")


def offer_change_history(*, offer: Offer, limit: int = 50) -> QuerySet[OfferChange]:
    """Return the newest field changes eMAG made to an offer, as syncs saw them."""
    return OfferChange.objects.filter(offer=offer).order_by("-changed_at", "-id")[:limit]
