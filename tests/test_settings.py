"""Settings: one declared table, strict at start-up, every setting documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from zitkg.errors import ConfigError
from zitkg.settings import SETTINGS, load_settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_defaults_and_environment():
    settings = load_settings(environ={"ZITKG_PORT": "9000", "ZITKG_QUERY_TIMEOUT": "2.5", "OTHER": "x"})
    assert settings.port == 9000 and settings.query_timeout == 2.5
    assert settings.store == Path("var/store") and settings.allowed_service_hosts == frozenset()


def test_overrides_win_over_environment():
    settings = load_settings(environ={"ZITKG_PORT": "9000"}, overrides={"port": 9100, "host": None})
    assert settings.port == 9100 and settings.host == "127.0.0.1"


def test_unknown_variable_fails_with_a_suggestion():
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"ZITKG_QUERY_TIMOUT": "3"})
    assert err.value.hint == "did you mean ZITKG_QUERY_TIMEOUT?"


@pytest.mark.parametrize(("name", "value"), [("ZITKG_PORT", "eighty"), ("ZITKG_LOAD_BUNDLED", "maybe")])
def test_wrong_type_fails(name, value):
    with pytest.raises(ConfigError, match="expects"):
        load_settings(environ={name: value})


def test_base_iri_must_end_with_slash():
    with pytest.raises(ConfigError, match="base_iri"):
        load_settings(environ={"ZITKG_BASE_IRI": "https://example.org/x"})


def test_every_setting_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`ZITKG_{s.name.upper()}`" not in text]
    assert missing == []


def test_cli_reports_bad_setting_with_exit_2(tmp_path):
    from click.testing import CliRunner

    from zitkg.cli import main

    result = CliRunner().invoke(main, ["query", "ASK {}", "--store", str(tmp_path)], env={"ZITKG_PORTT": "1"})
    assert result.exit_code == 2 and "ZITKG_PORT" in result.output
