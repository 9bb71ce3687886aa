"""UI language: Polish by default, English on request, with gettext catalogs through Flask-Babel.

Message ids are the English texts (the gettext convention); the Polish catalog is
``translations/pl/LC_MESSAGES/messages.po``. Only the .po file is kept in the repository: it is
compiled in memory on first use, so there is no generated .mo file to commit or to forget to rebuild.
``pybabel extract -F babel.cfg`` finds every message (``make messages`` updates the catalog) and
tests/test_ui.py fails when a message has no Polish translation.

``text(key, lang)`` and ``STRINGS`` keep the older key-based API that ld.py's templates use.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, request
from flask_babel import Babel, Domain, get_locale

LANGUAGES = ("pl", "en")
DEFAULT_LANGUAGE = "pl"
TRANSLATIONS = Path(__file__).parent / "translations"
COOKIE = "lang"


def _(text: str) -> str:
    """Marks a message for extraction where it is translated later (pybabel's default keyword)."""
    return text


# Older key-based API: key -> English message id.
STRINGS: dict[str, str] = {
    "site": _("Networking of ZIT associations — knowledge graph"),
    "properties": _("Properties"),
    "property": _("Property"),
    "value": _("Value"),
    "source": _("Source"),
    "incoming": _("Links to this resource"),
    "from": _("Resource"),
    "formats": _("Other formats"),
    "example": _("Example (illustrative record, not a programme fact)"),
    "types": _("Type"),
    "ontology": _("The zit ontology"),
    "classes": _("Classes"),
    "object_properties": _("Object properties"),
    "datatype_properties": _("Datatype properties"),
    "specialises": _("Specialises"),
    "switch": _("Polski"),
    "sparql": _("SPARQL endpoint"),
    "api": _("Questions API"),
    "codebook": _("Codebook"),
    "codebook_intro": _("For each class: its fields, which are required, the allowed values and the validation "
                        "messages a submitter may see. The page is generated from the SHACL shapes."),
    "field": _("Field"),
    "required": _("Required"),
    "yes": _("yes"),
    "no": _("no"),
    "allowed": _("Allowed values"),
    "messages": _("Messages"),
    "rules": _("Rules for the whole record"),
    "severity": _("Severity"),
}

# Where a statement comes from, by the last segment of its named graph.
GRAPH_NAMES: dict[str, str] = {
    "programme": _("programme document"),
    "examples": _("example"),
    "ontology": _("ontology"),
    "vocabularies": _("vocabularies"),
    "themes": _("thematic areas"),
    "provenance": _("provenance"),
}


@lru_cache(maxsize=len(LANGUAGES))
def catalog(lang: str) -> NullTranslations:
    """The compiled catalog of a language (English is the message ids themselves)."""
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return NullTranslations()
    with po.open("rb") as handle:
        messages = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, messages)
    buffer.seek(0)
    return Translations(fp=buffer)


def translate(message: str, lang: str) -> str:
    return catalog(lang).gettext(message)


def text(key: str, lang: str) -> str:
    return translate(STRINGS[key], lang)


def graph_name(graph: str, lang: str) -> str:
    name = GRAPH_NAMES.get(graph.rsplit("/", 1)[-1])
    return translate(name, lang) if name else graph


def ui_language() -> str:
    """`lang=` first, then the `lang` cookie, then Accept-Language; Polish by default."""
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


class _PoDomain(Domain):
    """Flask-Babel's domain, reading the in-memory catalogs instead of .mo files."""

    def get_translations(self) -> NullTranslations:
        locale = get_locale()
        return catalog(str(locale) if locale else DEFAULT_LANGUAGE)


class _Babel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:  # type: ignore[override]
        return _PoDomain()


def init_app(app: Flask) -> None:
    """Flask-Babel with our choice of language (the switch in web/ui.py sets the cookie)."""
    _Babel(app, default_locale=DEFAULT_LANGUAGE, locale_selector=ui_language)
