"""Keep PostgreSQL's statistics of a table in step with a sync that fills it.

PostgreSQL plans each page's lookup of stored offers (or orders) from the table's
statistics. A first sync of a large catalogue multiplies the table many times over within a
minute, long before autovacuum (where it runs at all: some servers turn it off) analyses the
table again. Planned for the near-empty table it last saw, the lookup of a page's 100 offers
reads every offer of the account instead: 70 ms a page at 100,000 offers, and the sync slows
down as it goes. PostgreSQL's own advice after loading much data is to ANALYZE; offer and
order syncs do so themselves each time they have doubled their table.
"""

from django.db import connection
from django.db.models import Model

# Below this many new rows a plan cannot go far wrong, and ANALYZE would cost more than it saves.
MINIMUM_GROWTH = 1000


def table_analyze(model: type[Model]) -> None:
    """Refresh PostgreSQL's statistics of a model's table (elsewhere, do nothing)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # The table name comes from model metadata.
        cursor.execute(f'ANALYZE "{model._meta.db_table}"')  # nosec B608


def table_estimated_rows(model: type[Model]) -> int:
    """Return PostgreSQL's estimate of a table's rows, 0 before its first analysis."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    return row[0] if row else 0


class GrowthAnalyzer:
    """Analyse a table each time rows added by this run have doubled it since the last time."""

    def __init__(self, model: type[Model]):
        self.model = model
        self.rows_at_last_analysis = table_estimated_rows(model)
        self.rows_added = 0

    def added(self, rows: int) -> None:
        """Count rows this run has just inserted, and analyse the table if it has doubled."""
        self.rows_added += rows
        if self.rows_added >= max(MINIMUM_GROWTH, self.rows_at_last_analysis):
            table_analyze(self.model)
            self.rows_at_last_analysis += self.rows_added
            self.rows_added = 0
