"""Use Django's SQLite backend with the linked library's real variable limit and our folding.

Django assumes SQLite's historical limit of 999 bind parameters, which splits a 100-offer
bulk upsert into several statements. SQLite 3.32+ allows 32,766, so a page is written
with one statement, as on PostgreSQL.

Every connection also knows the search folding (emag_sync.folding.fold), which the stored
search columns of offers and orders are generated with: SQLite itself cannot drop diacritics.
"""

import sqlite3

from django.db.backends.sqlite3 import base, features

from emag_sync.folding import SQLITE_FOLD_FUNCTION, fold


class DatabaseFeatures(features.DatabaseFeatures):
    max_query_params = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        # Deterministic, so SQLite accepts it in a generated column.
        connection.create_function(SQLITE_FOLD_FUNCTION, 1, fold, deterministic=True)
        return connection
