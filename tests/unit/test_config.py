"""Config errors name the file, the key and the fix, on one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialdesk.config import load_settings, resolve_secrets
from socialdesk.errors import AccountSyncError, ConfigError
from socialdesk.platforms.x_platform import XAccount
from tests.support import REPO

CONFIGS = Path(__file__).parents[1] / "data" / "config"


def test_the_example_config_loads_and_documents_both_platforms() -> None:
    settings = load_settings(REPO / "config.example.toml")
    assert {account.platform for account in settings.accounts} == {"x", "facebook"}


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("unknown_key.toml",
         "accounts[0].page_tokn_env: unknown key; did you mean 'page_token_env'?"),
        ("not_toml.toml", "not valid TOML"),
        ("secret_inline.toml", "accounts[0].page_token: secrets are not kept in the file"),
        ("missing_key.toml", "accounts[0].user_id: missing required key"),
        ("bad_platform.toml", 'platform must be one of "facebook", "x"'),
        ("http_remote.toml", "accounts[0].base_url: plain http:// is accepted only for loopback"),
        ("duplicate_names.toml", "account name 'brand' is used twice"),
        ("bad_graph_version.toml", "accounts[0].graph_version"),
        ("schedule_unknown_account.toml",  # a typo would write an empty CSV every week
         "reports.schedule[1].account: no account named 'brnad-x' "
         "(accounts: brand-x, brand-fb)"),
    ],
)
def test_a_broken_config_is_reported_with_file_and_key(file: str, expected: str) -> None:
    path = CONFIGS / file
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = caught.value.message
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message
    assert "EAAB-not-a-real-token" not in message


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="socialdesk init"):
        load_settings(tmp_path / "none.toml")


def test_secrets_come_from_the_named_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = XAccount(name="a", platform="x", user_id="1", bearer_token_env="T1",
                       consumer_key_env="T2", consumer_secret_env="T3",
                       access_token_env="T4", access_token_secret_env="T5")
    for index in range(1, 5):
        monkeypatch.setenv(f"T{index}", f"value{index}")
    monkeypatch.delenv("T5", raising=False)
    with pytest.raises(AccountSyncError, match="T5 .access_token_secret_env. is not set"):
        resolve_secrets(account)
    monkeypatch.setenv("T5", "value5")
    assert resolve_secrets(account)["access_token_secret"] == "value5"
