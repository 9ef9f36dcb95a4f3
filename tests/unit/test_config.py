"""Config errors name the file, the key and the fix, on one line."""

from __future__ import annotations

import os
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


FACEBOOK_ACCOUNT = """
[[accounts]]
name = "brand-fb"
platform = "facebook"
page_id = "1"
page_token_env = "TOKENS_FILE_PAGE"
"""


def test_the_tokens_file_holds_what_the_environment_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """cron starts socialdesk without the shell's exports: the file named beside the config
    fills in, the environment still wins, and the file is read, not executed."""
    (tmp_path / "tokens.env").write_text(
        "# the brand's Page\nTOKENS_FILE_PAGE='from the file'\nNOT_RUN=$(touch ran)\n",
        encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[secrets]\ntokens_file = "tokens.env"\n' + FACEBOOK_ACCOUNT,
                      encoding="utf-8")
    monkeypatch.delenv("TOKENS_FILE_PAGE", raising=False)
    monkeypatch.chdir(tmp_path.parent)  # relative to the config's folder, not the cwd
    settings = load_settings(config)
    assert settings.secrets.tokens_file == tmp_path / "tokens.env"
    assert resolve_secrets(settings.accounts[0])["page_token"] == "from the file"
    assert "TOKENS_FILE_PAGE" not in os.environ
    assert not (tmp_path / "ran").exists()
    monkeypatch.setenv("TOKENS_FILE_PAGE", "from the environment")
    assert resolve_secrets(settings.accounts[0])["page_token"] == "from the environment"


def test_a_token_in_neither_place_names_both(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tokens.env").write_text("OTHER=1\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[secrets]\ntokens_file = "tokens.env"\n' + FACEBOOK_ACCOUNT,
                      encoding="utf-8")
    monkeypatch.delenv("TOKENS_FILE_PAGE", raising=False)
    with pytest.raises(AccountSyncError) as caught:
        resolve_secrets(load_settings(config).accounts[0])
    assert caught.value.message == (
        f"brand-fb: environment variable TOKENS_FILE_PAGE (page_token_env) is not set "
        f"(nor in {tmp_path / 'tokens.env'})")


def test_a_missing_tokens_file_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[secrets]\ntokens_file = "gone.env"\n' + FACEBOOK_ACCOUNT,
                      encoding="utf-8")
    with pytest.raises(ConfigError, match=r"gone.env: tokens_file names no file here"):
        load_settings(config)
