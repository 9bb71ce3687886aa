"""A minimal SPARQL endpoint: pyoxigraph in memory behind a bare WSGI function (a reference, not the service).

It shows what the Python HTTP stack alone costs on this machine: run under gunicorn with the service's
worker model (one process, gthread, 8 threads), it has none of the service's features (no guards, no time
limit, no content negotiation, no cache). bench/run.py starts it next to `zitkg serve` for the throughput
runs:

    BENCH_DATA=bench/data/zit-1m.nq gunicorn -w 1 -k gthread --threads 8 -b 127.0.0.1:8999 floor_app:app
"""

from __future__ import annotations

import os
import urllib.parse

import pyoxigraph as ox

STORE = ox.Store()
if os.environ.get("BENCH_DATA"):
    STORE.bulk_load(path=os.environ["BENCH_DATA"], format=ox.RdfFormat.N_QUADS)


def app(environ, start_response):  # noqa: ANN001, ANN201 - WSGI
    method = environ["REQUEST_METHOD"]
    if method == "GET":
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("query", [""])[0]
    else:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode()
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            query = urllib.parse.parse_qs(body).get("query", [""])[0]
        else:
            query = body
    try:
        result = STORE.query(query, use_default_graph_as_union=True)
        data = result.serialize(format=ox.QueryResultsFormat.JSON)
        status = "200 OK"
    except (SyntaxError, ValueError) as exc:
        data, status = str(exc).encode(), "400 Bad Request"
    start_response(status, [("Content-Type", "application/sparql-results+json"),
                            ("Content-Length", str(len(data)))])
    return [data]
