import pytest

from moonshift.domain.secrets import (
    MissingVariableError,
    literal_secret_in_url,
    redact_url,
    references,
    substitute,
)


def test_substitutes_references_and_defaults() -> None:
    env = {"USER": "app", "PW": "s3cr3t"}
    assert (
        substitute("postgresql://${USER}:${PW}@h/${DB:-main}", env)
        == "postgresql://app:s3cr3t@h/main"
    )
    assert substitute("cost: $$5", env) == "cost: $5"


def test_missing_variable_names_it() -> None:
    with pytest.raises(MissingVariableError, match="PGPASSWORD is not set"):
        substitute("x${PGPASSWORD}", {})


def test_references_in_order() -> None:
    assert references("${A}-${B:-x}-$${C}") == ["A", "B"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:hunter2@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:${PW}@h/db", "postgresql://u:${PW}@h/db"),
        ("mysql://u@h/db?password=hunter2&x=1", "mysql://u@h/db?password=***&x=1"),
        ("sqlite:///tmp/a.db", "sqlite:///tmp/a.db"),
    ],
)
def test_redaction(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "hunter2" not in redact_url(url)


def test_literal_secrets_are_found_and_references_are_not() -> None:
    assert literal_secret_in_url("postgresql://u:pw@h/db") == "the password"
    assert literal_secret_in_url("postgresql://u@h/db?sslpassword=x") == "the sslpassword parameter"
    assert literal_secret_in_url("postgresql://u:${PW}@h/db") is None
    assert literal_secret_in_url("postgresql://u@h/db") is None
