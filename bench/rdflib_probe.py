"""rdflib in memory, the Python peer: load the file, then time each query with a limit (run by run.py).

    python bench/rdflib_probe.py FILE.nq REQUESTS.json OUT.json

REQUESTS.json: {"limits": {...Limits...}, "queries": [{"id", "form", "sparql", "timeout_s"}, ...]} where each
query is already bound with a VALUES block and may carry its own time limit. The dataset is an rdflib ``Dataset(default_union=True)``: the default
graph is the union of the named graphs, as on the service. Each query runs in a forked child, ended at
the time limit; the row count is taken from the first run (CONSTRUCT: distinct triples).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Limits, forked_series, peak_rss_mb, rss_mb  # noqa: E402


def main() -> int:
    from rdflib import Dataset

    source, requests_path, out_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    spec = json.loads(requests_path.read_text())
    limits = Limits(**spec["limits"])
    before = rss_mb()
    started = time.perf_counter()
    dataset = Dataset(default_union=True)
    dataset.parse(str(source), format="nquads")
    load_s = time.perf_counter() - started
    quads = len(dataset)
    result: dict[str, object] = {
        "load": {"seconds": load_s, "quads": quads, "triples_per_s": quads / load_s, "peak_rss_mb": peak_rss_mb(),
                 "rss_before_mb": before},
        "queries": {},
    }

    def runner(text: str, form: str):  # noqa: ANN202
        def make():  # noqa: ANN202
            def run() -> int:
                answer = dataset.query(text)
                if form in {"CONSTRUCT", "DESCRIBE"}:
                    return len(set(answer))
                if form == "ASK":
                    return int(bool(answer.askAnswer))
                return sum(1 for row in answer if tuple(row) is not None)

            return run

        return make

    for query in spec["queries"]:
        own = Limits(**{**spec["limits"], "timeout_s": query.get("timeout_s", limits.timeout_s)})
        series = forked_series(runner(query["sparql"], query["form"]), own)
        result["queries"][query["id"]] = {**series.to_dict(), "timeout_s": own.timeout_s}
        print(f"  rdflib {query['id']}: "
              + ("did not finish" if series.dnf else f"{series.to_dict().get('p50', float('nan')):.1f} ms"),
              file=sys.stderr, flush=True)
        out_path.write_text(json.dumps(result))
    out_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
