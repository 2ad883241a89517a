"""/api/v1: the predecessor's contract, for its clients (its React page, shell scripts, docs).

A thin adapter over the same services and selectors as /api/v2: it reads the predecessor's
requests and answers in its shapes (the `{status, message, data}` envelope where it had one,
its key names and token names, errors as `{"detail": "..."}` with its status codes), while
every guarantee of v2 holds (validation, permissions, single flight, real cancel). New
features go to v2 only.
"""
