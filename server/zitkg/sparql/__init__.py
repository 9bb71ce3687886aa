"""SPARQL execution: query guards, result formats and the worker processes that enforce time limits."""
