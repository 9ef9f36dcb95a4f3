"""Reads the TOML config into validated settings, with errors a person can act on.

Secrets never live in the file: each `*_env` key names the environment variable that
holds the value, and values are read only when a connector is built. A variable the
environment lacks is looked up in the tokens file `[secrets] tokens_file` names, for cron
and systemd, which start socialdesk with an almost empty environment.
"""

from __future__ import annotations

import abc
import functools
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, Union, cast
from zoneinfo import ZoneInfo

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from connectors.base import ConfigurationError
from connectors.base_url import parse_base_url
from socialdesk import plugins
from socialdesk.config_errors import describe_invalid
from socialdesk.errors import AccountSyncError, ConfigError, UsageError
from socialdesk.paths import default_database_url
from socialdesk.rules_config import (
    DEFAULT_TIMEZONE,
    AcknowledgementSettings,
    HoursSettings,
    PrivacyMode,
    PrivacySettings,
    SlaSettings,
    Strict,
    TemplateLanguage,
    check_poll_seconds,
    check_timezone,
    fast_poll_intervals,
)
from socialdesk.team_config import TeamSettings
from socialdesk.tokens_file import read_tokens_file


class DatabaseSettings(Strict):
    url: str | None = None
    """SQLAlchemy URL; empty means SQLite in the user's data dir."""

    @property
    def effective_url(self) -> str:
        return self.url or default_database_url()


class OutboxSettings(Strict):
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    """Sends tried per action before it is `failed`; only failures the platform confirms
    (5xx, 429, a refused connection) are tried again."""
    retry_base_seconds: Annotated[float, Field(gt=0, le=3600)] = 2.0
    """First retry delay; it doubles with every attempt (capped at 15 minutes)."""
    stale_sending_seconds: Annotated[float, Field(gt=0, le=86400)] = 120.0
    """An action still `sending` after this long was left by a crash: it becomes `unknown`."""


def _check_base_url(url: str | None) -> str | None:
    """The connectors' own rule (https anywhere, plain http only on loopback), applied when
    the file is read so that a bad URL names its key instead of failing the first sync."""
    try:
        parse_base_url(url)
    except ConfigurationError as error:
        raise ValueError(str(error)) from None
    return url.rstrip("/") if url else None


class AccountConfig(Strict, abc.ABC):
    """One `[[accounts]]` entry: the keys every platform shares. Each platform module
    subclasses it with `platform: Literal["<its name>"]` and its own keys."""

    SECRET_KEYS: ClassVar[tuple[str, ...]] = ()
    """Keys whose values are secrets: refused inline, read from `<key>_env` variables."""
    POLL_SECONDS: ClassVar[dict[str, int]] = {}
    """The platform's streams and their default slowest seconds between polls."""
    FAST_POLL_SECONDS: ClassVar[dict[str, int]] = {}
    """The default seconds between polls of a stream while customers write in it."""
    _tokens_file: Path | None = PrivateAttr(default=None)
    _file_tokens: Mapping[str, str] = PrivateAttr(default_factory=dict)
    LABEL: ClassVar[str] = "this platform"
    """How errors about the account's keys name its platform."""

    platform: str
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    base_url: str | None = None
    """Overrides the platform's API host: the sandbox, a replay server, or the real API."""
    timezone: str | None = None
    """Overrides `[hours] timezone` for this account's due times."""
    language: TemplateLanguage = "it"
    """The customers' usual language: used when a post is too short to tell."""
    privacy_mode: PrivacyMode | None = None
    """Overrides `[privacy] mode` for this account."""
    max_response_mb: Annotated[int, Field(ge=1, le=1024)] = 20
    """A page whose body is larger is refused unread: the stream fails for that pass and
    keeps its watermark, and memory stays bounded (a 150 MB page once took 1 GB)."""
    poll_seconds: dict[str, int] = Field(default_factory=dict, validate_default=True)
    """The slowest interval per stream in `socialdesk run`: how often a quiet stream is
    polled (with `adaptive_polling = false`, every poll); each platform has defaults."""
    fast_poll_seconds: dict[str, int] = Field(default_factory=dict, validate_default=True)
    """Seconds between polls per stream while customers are writing in it (new items in the
    last two minutes); the interval grows from here to `poll_seconds` while it stays quiet."""
    adaptive_polling: bool = True
    """False: every stream is polled every `poll_seconds` and X DM polls ask for full pages
    of 100, as before polling adapted (the freshness benchmark's baseline)."""

    @field_validator("base_url")
    @classmethod
    def _base_url_is_safe(cls, value: str | None) -> str | None:
        return _check_base_url(value)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return check_timezone(value)

    @field_validator("poll_seconds")
    @classmethod
    def _poll_seconds_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        return check_poll_seconds(value, cls.POLL_SECONDS, cls.LABEL)

    @field_validator("fast_poll_seconds")
    @classmethod
    def _fast_polls_within_slowest(
        cls, value: dict[str, int], info: ValidationInfo
    ) -> dict[str, int]:
        slowest = info.data.get("poll_seconds")
        if slowest is None:  # poll_seconds itself was refused; that error is the one to read
            return value
        return fast_poll_intervals(value, cls.FAST_POLL_SECONDS, slowest, cls.LABEL)

    @abc.abstractmethod
    def secret_env_names(self) -> dict[str, str]:
        """Secret key -> the environment variable that holds it."""

    @abc.abstractmethod
    def options(self) -> dict[str, Any]:
        """The plain keys the platform's connector reads (ids, versions, limits)."""

    def own_id(self) -> str:
        """The account's own id on the platform: what its own messages carry as author."""
        return ""


class OperatorSettings(Strict):
    """Who is at the keyboard of this install; `socialdesk tui --as` overrides the initials."""

    initials: Annotated[str, Field(min_length=1, max_length=8, pattern=r"^[A-Za-z0-9.]+$")] = "ME"
    """Signs notes and actions (seed 004: notes carry the operator's initials)."""
    name: str | None = None

    def for_session(self, initials: str | None) -> OperatorSettings:
        """Who signs this session: `--as` initials (the desk, `reply`, `outbox retry`),
        checked by this model's own rule, else these. The configured name belongs to the
        configured initials: someone else (`--as XY`) signs with their initials alone."""
        if initials is None or initials == self.initials:
            return self
        try:
            return OperatorSettings(initials=initials)
        except ValidationError:
            raise UsageError(f"--as {initials!r}: initials are 1 to 8 letters, digits or dots, "
                             "as [operator] initials in the config") from None


class TuiSettings(Strict):
    """The desk (TUI)."""

    keymap: dict[Annotated[str, Field(pattern=r"^[a-z_]+\.[a-z_]+$")],
                 Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    """Binding id -> key(s), e.g. `"conversation.reply" = "R"`; `?` in the desk lists the
    ids' current keys. Several keys: comma-separated, e.g. `"queue.down" = "down,j,n"`."""
    theme: Annotated[str, Field(min_length=1)] = "textual-dark"
    """A Textual theme: "textual-light" (or "solarized-light", "catppuccin-latte"...) for a
    light terminal. An unknown name is reported when the desk starts."""


class SavedReplySettings(Strict):
    """A reply the team writes again and again (seed 003); the TUI suggests the closest."""

    name: Annotated[str, Field(min_length=1)]
    language: Annotated[str, Field(min_length=2, max_length=8)] = "en"
    text: Annotated[str, Field(min_length=1)]
    """May use `{name}` (the customer's name) and `{agent}` (the operator's name)."""


class ScheduledReport(Strict):
    """A report `socialdesk run` writes by itself, e.g. every Monday for the week before."""

    cron: Annotated[str, Field(min_length=9)]
    """Crontab expression in the local time zone, e.g. "0 7 * * mon"."""
    kind: Literal["conversations", "messages", "agents", "daily", "redirects"]
    period: Literal["day", "week", "month"] = "week"
    """The whole previous day, week (Monday to Sunday) or month before the run."""
    output: Annotated[str, Field(min_length=1)]
    """File path; `{kind}`, `{since}`, `{until}` (YYYY-MM-DD) and `{date}` are filled in."""

    @field_validator("output")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            value.format(kind="k", since="s", until="u", date="d")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"unknown placeholder {error}; use {{kind}}, {{since}}, "
                             "{until} or {date}") from None
        return value
    excel: bool = False
    account: str | None = None

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("must be a crontab expression of five fields, e.g. \"0 7 * * mon\"")
        return value


class ReportsSettings(Strict):
    unmask_operators: tuple[str, ...] = ()
    """Initials allowed to export personal data in clear (`report --unmask`); audited."""
    schedule: list[ScheduledReport] = Field(default_factory=list)


class SecretsSettings(Strict):
    tokens_file: Path | None = None
    """`NAME=value` lines holding the token variables the environment lacks (cron, systemd);
    a relative path is read from the config file's folder."""


class Settings(Strict):
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)
    reports: ReportsSettings = Field(default_factory=ReportsSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    hours: HoursSettings | None = None
    """Published hours; without them the desk counts as always open."""
    sla: SlaSettings = Field(default_factory=SlaSettings)
    acknowledgement: AcknowledgementSettings = Field(default_factory=AcknowledgementSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    operator: OperatorSettings = Field(default_factory=OperatorSettings)
    team: TeamSettings | None = None
    """Roles for a team (`socialdesk.team_config`); without it one manager may everything."""
    tui: TuiSettings = Field(default_factory=TuiSettings)
    saved_replies: list[SavedReplySettings] = Field(default_factory=list)
    accounts: list[AccountConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_are_unique(self) -> Settings:
        seen: set[str] = set()
        for account in self.accounts:
            if account.name in seen:
                raise ValueError(f"account name {account.name!r} is used twice")
            seen.add(account.name)
        return self

    @model_validator(mode="after")
    def _scheduled_accounts_exist(self) -> Settings:
        """A misspelt account would otherwise write an empty report every week, silently."""
        for index, entry in enumerate(self.reports.schedule):
            if entry.account is not None:
                try:
                    self.account(entry.account)
                except ConfigError as error:
                    raise ValueError(f"reports.schedule[{index}].account: {error.message}") \
                        from None
        return self

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Each account is read by the model its `platform` names, among the registered
        platforms' (entry points are read here, when a config is read, not at import)."""
        if cls is Settings:
            model = _settings_model(tuple(account_models().values()))
            return cast(Self, model.model_validate(obj, *args, **kwargs))
        return super().model_validate(obj, *args, **kwargs)

    @property
    def desk_zone(self) -> ZoneInfo:
        """The one time zone people read times in: `[hours] timezone` (Europe/Rome by
        default), for the desk, `run`'s and `sync`'s lines, `doctor` and the reports."""
        return ZoneInfo(self.hours.timezone if self.hours else DEFAULT_TIMEZONE)

    def account(self, name: str) -> AccountConfig:
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
    settings = settings_from_mapping(raw, source=str(path))
    if settings.secrets.tokens_file is None:
        return settings
    return _with_tokens_file(settings, path.parent / settings.secrets.tokens_file.expanduser())


def _with_tokens_file(settings: Settings, tokens_file: Path) -> Settings:
    """Each account looks up the variables the environment lacks in `tokens_file`, whose
    path the settings now hold as it was found (relative to the config's folder)."""
    tokens = read_tokens_file(tokens_file)
    for account in settings.accounts:
        account._tokens_file, account._file_tokens = tokens_file, tokens
    return settings.model_copy(update={"secrets": SecretsSettings(tokens_file=tokens_file)})


def settings_from_mapping(raw: Mapping[str, Any], source: str) -> Settings:
    models = account_models()
    _refuse_inline_secrets(raw, source, models)
    try:
        return Settings.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(describe_invalid(error, raw, source, models, Settings,
                                           AccountConfig)) from None


def account_models() -> dict[str, type[AccountConfig]]:
    """Each registered platform's account model, by platform name (the platform modules'
    `account_model`, found through the `socialdesk.platforms` entry points)."""
    models: dict[str, type[AccountConfig]] = {}
    for platform in plugins.platform_names():
        model = getattr(plugins.load_platform_entry(platform), "account_model", None)
        if not (isinstance(model, type) and issubclass(model, AccountConfig)):
            raise ConfigError(f"platform {platform!r} has no account model (an AccountConfig)")
        models[platform] = model
    return models


@functools.cache
def _settings_model(models: tuple[type[AccountConfig], ...]) -> type[Settings]:
    """`Settings` whose accounts are read by the model their `platform` names."""
    if len(models) == 1:
        account: Any = models[0]
    else:
        account = Annotated[Union[models], Field(discriminator="platform")]  # noqa: UP007
    return cast(type[Settings], create_model(
        "Settings", __base__=Settings,
        accounts=(list[account], Field(default_factory=list)),
    ))


def _refuse_inline_secrets(
    raw: Mapping[str, Any], source: str, models: Mapping[str, type[AccountConfig]]
) -> None:
    accounts = raw.get("accounts", [])
    if not isinstance(accounts, list):
        return
    secret_keys = [key for model in models.values() for key in model.SECRET_KEYS]
    for index, account in enumerate(accounts):
        if not isinstance(account, Mapping):
            continue
        for key in secret_keys:
            if key in account:
                raise ConfigError(
                    f"{source}: accounts[{index}].{key}: secrets are not kept in the file; "
                    f"set {key}_env to the name of an environment variable that holds it"
                )


def resolve_secrets(account: AccountConfig) -> dict[str, str]:
    """Read the account's secrets from the environment, then the tokens file, or name every
    variable that is missing at once (one at a time took a run of `doctor` per variable)."""
    names = account.secret_env_names()
    secrets = {key: _secret(account, env_name) for key, env_name in names.items()}
    missing = [f"{names[key]} ({key}_env)" for key, value in secrets.items() if not value]
    if not missing:
        return secrets
    where = f" (nor in {account._tokens_file})" if account._tokens_file else ""
    variables = (f"variable {missing[0]} is" if len(missing) == 1
                 else f"variables {', '.join(missing)} are")
    raise AccountSyncError(account.name, f"environment {variables} not set{where}")


def secret_sources(account: AccountConfig) -> dict[str, str | None]:
    """Each token variable of `account` and where it is read: "the environment", the tokens
    file's path, or None when neither has it (for `doctor` to explain)."""
    sources: dict[str, str | None] = {}
    for env_name in account.secret_env_names().values():
        if os.environ.get(env_name):
            sources[env_name] = "the environment"
        elif account._file_tokens.get(env_name):
            sources[env_name] = str(account._tokens_file)
        else:
            sources[env_name] = None
    return sources


def _secret(account: AccountConfig, env_name: str) -> str:
    return os.environ.get(env_name) or account._file_tokens.get(env_name, "")
