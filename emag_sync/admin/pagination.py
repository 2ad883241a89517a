"""Pagination for huge changelists: count only as far as a person can page."""

from typing import cast

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

from emag_sync.admin.bases import ModelAdminMixin

# Rows counted beyond the current page. COUNT(*) of a whole table reads every row, which
# grows with the catalogue; counting at most this many past the page keeps each changelist
# request bounded however many offers there are.
COUNT_AHEAD = 10_000


class CappedCountPaginator(Paginator):
    """A paginator whose count stops COUNT_AHEAD rows past the current page.

    Below the cap the count is exact. Above it, `is_capped` is true and the page links
    reach COUNT_AHEAD rows further; they grow as the reader moves on.
    """

    def __init__(self, object_list, per_page, *, current_page: int = 1, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_limit = max(1, current_page) * per_page + COUNT_AHEAD

    @cached_property
    def count(self) -> int:
        # values("pk") keeps the annotations the list shows out of the counted subquery.
        # Changelists always page a queryset.
        window = cast(QuerySet, self.object_list).order_by().values("pk")[: self.count_limit + 1]
        return window.count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.count_limit


class CappedCountMixin(ModelAdminMixin):
    """Give a ModelAdmin the capped count, aware of the page being read."""

    paginator = CappedCountPaginator
    show_full_result_count = False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        page = request.GET.get("p", "1")
        return self.paginator(
            queryset,
            per_page,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
            current_page=int(page) if page.isdigit() else 1,
        )
