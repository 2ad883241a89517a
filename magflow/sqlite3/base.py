"""Use Django's SQLite backend with the linked library's real variable limit.

Django assumes SQLite's historical limit of 999 bind parameters, which splits a 100-offer
bulk upsert into several statements. SQLite 3.32+ allows 32,766, so a page is written
with one statement, as on PostgreSQL.
"""

import sqlite3

from django.db.backends.sqlite3 import base, features


class DatabaseFeatures(features.DatabaseFeatures):
    max_query_params = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
