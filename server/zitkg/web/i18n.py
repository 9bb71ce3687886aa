"""UI strings in Polish (default) and English, and the choice of language for a request."""

from __future__ import annotations

from flask import request

LANGUAGES = ("pl", "en")

STRINGS: dict[str, dict[str, str]] = {
    "site": {"pl": "Sieciowanie Związków ZIT — graf wiedzy", "en": "Networking of ZIT associations — knowledge graph"},
    "properties": {"pl": "Właściwości", "en": "Properties"},
    "property": {"pl": "Właściwość", "en": "Property"},
    "value": {"pl": "Wartość", "en": "Value"},
    "source": {"pl": "Źródło", "en": "Source"},
    "incoming": {"pl": "Odwołania do tego zasobu", "en": "Links to this resource"},
    "from": {"pl": "Zasób", "en": "Resource"},
    "formats": {"pl": "Inne formaty", "en": "Other formats"},
    "example": {"pl": "Przykład (rekord ilustracyjny, nie fakt programu)",
                "en": "Example (illustrative record, not a programme fact)"},
    "types": {"pl": "Typ", "en": "Type"},
    "ontology": {"pl": "Ontologia zit", "en": "The zit ontology"},
    "classes": {"pl": "Klasy", "en": "Classes"},
    "object_properties": {"pl": "Właściwości obiektowe", "en": "Object properties"},
    "datatype_properties": {"pl": "Właściwości danych", "en": "Datatype properties"},
    "specialises": {"pl": "Specjalizuje", "en": "Specialises"},
    "switch": {"pl": "English", "en": "Polski"},
    "sparql": {"pl": "Punkt dostępowy SPARQL", "en": "SPARQL endpoint"},
    "api": {"pl": "API pytań", "en": "Questions API"},
    "codebook": {"pl": "Słownik danych (codebook)", "en": "Codebook"},
    "codebook_intro": {"pl": "Dla każdej klasy: pola, które są wymagane, dozwolone wartości i komunikaty walidacji, które może zobaczyć zgłaszający. Strona powstaje z kształtów SHACL.",
                       "en": "For each class: its fields, which are required, the allowed values and the validation messages a submitter may see. The page is generated from the SHACL shapes."},
    "field": {"pl": "Pole", "en": "Field"},
    "required": {"pl": "Wymagane", "en": "Required"},
    "yes": {"pl": "tak", "en": "yes"},
    "no": {"pl": "nie", "en": "no"},
    "allowed": {"pl": "Dozwolone wartości", "en": "Allowed values"},
    "messages": {"pl": "Komunikaty", "en": "Messages"},
    "rules": {"pl": "Reguły dla całego rekordu", "en": "Rules for the whole record"},
    "severity": {"pl": "Waga", "en": "Severity"},
}

# Where a statement comes from, by the last segment of its named graph.
GRAPH_NAMES: dict[str, dict[str, str]] = {
    "programme": {"pl": "dokument programu", "en": "programme document"},
    "examples": {"pl": "przykład", "en": "example"},
    "ontology": {"pl": "ontologia", "en": "ontology"},
    "vocabularies": {"pl": "słowniki", "en": "vocabularies"},
    "themes": {"pl": "obszary tematyczne", "en": "thematic areas"},
}


def ui_language() -> str:
    """`lang=` first, then the `lang` cookie, then Accept-Language; Polish by default."""
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "pl"


def text(key: str, lang: str) -> str:
    return STRINGS[key][lang]
