"""The landing page: what this service is and where to go (the mapping UI comes in its own issue)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template_string

bp = Blueprint("home", __name__)

_PAGE = """<!doctype html>
<html lang="pl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sieciowanie Związków ZIT — graf wiedzy</title></head>
<body><main>
<h1>Sieciowanie Związków ZIT w Polsce — graf wiedzy</h1>
<p lang="en">Networking of ZIT associations in Poland — knowledge graph.</p>
<p>Punkt dostępowy SPARQL / SPARQL endpoint: <a href="{{ url_for('sparql.endpoint') }}">/sparql</a></p>
<p>Grafy / named graphs: {{ graphs|length }}, trójki / triples: {{ count }}</p>
<ul>{% for g in graphs %}<li><code>{{ g }}</code></li>{% endfor %}</ul>
</main></body></html>"""


@bp.get("/")
def index() -> str:
    ext = current_app.extensions["zitkg"]
    graphs = ext["sparql"].published_graphs()
    return render_template_string(_PAGE, graphs=graphs, count=ext["store"].quad_count())
