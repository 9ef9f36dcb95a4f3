"""Reads the TOML config into validated settings, with errors a person can act on.

Secrets never live in the file: each `*_env` key names the environment variable that
holds the value, and values are read only when a connector is built.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from socialdesk.errors import AccountSyncError, ConfigError
from socialdesk.paths import default_database_url

DEFAULT_GRAPH_VERSION = "v25.0"
"""Graph v25.0 is available until 2028-07-29 (Graph API changelog, PLATFORMS.md)."""

X_SECRET_KEYS = ("bearer_token", "consumer_key", "consumer_secret", "access_token",
                 "access_token_secret")
FACEBOOK_SECRET_KEYS = ("page_token",)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Strict):
    url: str | None = None
    """SQLAlchemy URL; empty means SQLite in the user's data dir."""

    @property
    def effective_url(self) -> str:
        return self.url or default_database_url()


class PrivacySettings(_Strict):
    phone_regions: tuple[str, ...] = ("IT", "US", "GB")
    """Regions national-format phone numbers are parsed in, most likely first."""
    own_numbers: tuple[str, ...] = ()
    """The brand's published numbers: a customer quoting them exposes nothing."""
    patterns: dict[str, str] = Field(default_factory=dict)
    """Named regular expressions for the brand's own identifiers (CUSTOM:<name>)."""


def _check_base_url(url: str | None) -> str | None:
    """Plain http is allowed only on loopback: tokens must never cross a network in clear."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError("plain http:// is accepted only for loopback addresses; use https://")
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _AccountBase(_Strict):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    base_url: str | None = None
    """Overrides the platform's API host: the sandbox, a replay server, or the real API."""

    @field_validator("base_url")
    @classmethod
    def _base_url_is_safe(cls, value: str | None) -> str | None:
        return _check_base_url(value)


class XAccount(_AccountBase):
    platform: Literal["x"]
    user_id: Annotated[str, Field(pattern=r"^[0-9]+$")]
    bearer_token_env: str
    consumer_key_env: str
    consumer_secret_env: str
    access_token_env: str
    access_token_secret_env: str

    def secret_env_names(self) -> dict[str, str]:
        return {key: getattr(self, f"{key}_env") for key in X_SECRET_KEYS}

    def options(self) -> dict[str, Any]:
        env_names = {f"{key}_env": name for key, name in self.secret_env_names().items()}
        return {"user_id": self.user_id, **env_names}


class FacebookAccount(_AccountBase):
    platform: Literal["facebook"]
    page_id: Annotated[str, Field(pattern=r"^[0-9]+$")]
    page_token_env: str
    graph_version: Annotated[str, Field(pattern=r"^v[0-9]+\.0$")] = DEFAULT_GRAPH_VERSION
    comment_lookback_days: Annotated[int, Field(ge=1, le=90)] = 7
    """Posts this recent are re-read for new comments; 7 days is the private-reply window."""

    def secret_env_names(self) -> dict[str, str]:
        return {"page_token": self.page_token_env}

    def options(self) -> dict[str, Any]:
        return {
            "page_id": self.page_id,
            "page_token_env": self.page_token_env,
            "graph_version": self.graph_version,
            "comment_lookback_days": self.comment_lookback_days,
        }


Account = Annotated[XAccount | FacebookAccount, Field(discriminator="platform")]


class Settings(_Strict):
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    accounts: list[Account] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_are_unique(self) -> Settings:
        seen: set[str] = set()
        for account in self.accounts:
            if account.name in seen:
                raise ValueError(f"account name {account.name!r} is used twice")
            seen.add(account.name)
        return self

    def account(self, name: str) -> XAccount | FacebookAccount:
        for account in self.accounts:
            if account.name == name:
                return account
        known = ", ".join(a.name for a in self.accounts) or "none configured"
        raise ConfigError(f"no account named {name!r} (accounts: {known})")


def load_settings(path: Path) -> Settings:
    """Read and validate `path`; every failure is a one-line `ConfigError` naming the file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no config file here; run `socialdesk init` or pass --config"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the file ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return settings_from_mapping(raw, source=str(path))


def settings_from_mapping(raw: Mapping[str, Any], source: str) -> Settings:
    _refuse_inline_secrets(raw, source)
    try:
        return Settings.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_describe(error, raw, source)) from None


def _refuse_inline_secrets(raw: Mapping[str, Any], source: str) -> None:
    accounts = raw.get("accounts", [])
    if not isinstance(accounts, list):
        return
    for index, account in enumerate(accounts):
        if not isinstance(account, Mapping):
            continue
        for key in (*X_SECRET_KEYS, *FACEBOOK_SECRET_KEYS):
            if key in account:
                raise ConfigError(
                    f"{source}: accounts[{index}].{key}: secrets are not kept in the file; "
                    f"set {key}_env to the name of an environment variable that holds it"
                )


def _describe(error: ValidationError, raw: Mapping[str, Any], source: str) -> str:
    """One problem, as `file: key.path: reason; did you mean …?`; a misspelt key first,
    since it also explains the "missing" error of the key it was meant to be."""
    problems = error.errors()
    problem = next((p for p in problems if p["type"] == "extra_forbidden"), problems[0])
    location = [part for part in problem["loc"] if part not in ("x", "facebook")]
    key = _dotted(location)
    if problem["type"] == "extra_forbidden":
        reason = "unknown key" + _suggestion(str(location[-1]), _allowed_keys(location, raw))
    elif problem["type"] == "missing":
        reason = "missing required key"
    elif problem["type"] == "union_tag_invalid" or problem["type"] == "union_tag_not_found":
        reason = 'platform must be "x" or "facebook"'
        key = _dotted([*location, "platform"]) if problem["type"] == "union_tag_not_found" else key
    else:
        reason = problem["msg"].removeprefix("Value error, ")
    return f"{source}: {key}: {reason}" if key else f"{source}: {reason}"


def _dotted(location: list[Any]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _allowed_keys(location: list[Any], raw: Mapping[str, Any]) -> list[str]:
    if len(location) >= 3 and location[0] == "accounts" and isinstance(location[1], int):
        platform = raw["accounts"][location[1]].get("platform")
        model: type[BaseModel] = FacebookAccount if platform == "facebook" else XAccount
    elif len(location) == 2:
        sections: dict[str, type[BaseModel]] = {
            "database": DatabaseSettings, "privacy": PrivacySettings
        }
        model = sections.get(str(location[0]), Settings)
    else:
        model = Settings
    return list(model.model_fields)


def _suggestion(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def resolve_secrets(account: XAccount | FacebookAccount) -> dict[str, str]:
    """Read the account's secrets from the environment, or say which variable is missing."""
    secrets: dict[str, str] = {}
    for key, env_name in account.secret_env_names().items():
        value = os.environ.get(env_name, "")
        if not value:
            raise AccountSyncError(
                account.name, f"environment variable {env_name} ({key}_env) is not set"
            )
        secrets[key] = value
    return secrets
