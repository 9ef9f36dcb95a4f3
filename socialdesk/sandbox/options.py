"""A complete socialdesk config pointing both accounts at a running sandbox."""

from __future__ import annotations

import os
from pathlib import Path

from socialdesk.paths import make_private_dir, open_private
from socialdesk.sandbox.state import FACEBOOK_PAGE_ID, X_USER_ID

SANDBOX_TOKEN_ENV = "SOCIALDESK_SANDBOX_TOKEN"
GRAPH_VERSION = "v25.0"


SAVED_REPLIES = """
# Saved replies the desk offers in its composer, the ones about what the customer asks first.
# The name counts as a keyword: "refund" ranks this reply first for a refund complaint.
[[saved_replies]]
name = "order-late"
language = "en"
text = "Hi {name}, sorry your order is late: we're checking the delivery with the courier today."

[[saved_replies]]
name = "login-help"
language = "en"
text = "Hi {name}, please reinstall the app and reset your password from the login screen."

[[saved_replies]]
name = "refund"
language = "en"
text = "Hi {name}, sorry about your refund: send us the order number privately and we'll check."

[[saved_replies]]
name = "ordine-in-ritardo"
language = "it"
text = "Ciao {name}, scusaci per il ritardo: verifichiamo oggi ordine e consegna con il corriere."

[[saved_replies]]
name = "accesso-app"
language = "it"
text = "Ciao {name}, reinstalla l'app e reimposta la password dalla schermata di accesso."

[[saved_replies]]
name = "rimborso"
language = "it"
text = "Ciao {name}, scusaci per il rimborso: mandaci in privato il numero d'ordine e verifichiamo."
"""
"""So `socialdesk demo` and a sandbox config can answer with a saved reply from the start."""


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def sandbox_config_text(base_url: str, database_url: str) -> str:
    """TOML for one X and one Facebook account on the sandbox at `base_url`."""
    base, database, token = (
        _toml_string(base_url),
        _toml_string(database_url),
        _toml_string(SANDBOX_TOKEN_ENV),
    )
    return f"""\
# socialdesk config for the built-in platform sandbox (`socialdesk sandbox`).
# The sandbox accepts any value in {SANDBOX_TOKEN_ENV}: set it to anything, e.g.
#   export {SANDBOX_TOKEN_ENV}=sandbox

[database]
url = {database}

[[accounts]]
name = "sandbox-x"
platform = "x"
base_url = {base}
user_id = "{X_USER_ID}"
bearer_token_env = {token}
consumer_key_env = {token}
consumer_secret_env = {token}
access_token_env = {token}
access_token_secret_env = {token}

[[accounts]]
name = "sandbox-facebook"
platform = "facebook"
base_url = {base}
page_id = "{FACEBOOK_PAGE_ID}"
page_token_env = {token}
app_secret_env = {token}
graph_version = "{GRAPH_VERSION}"
{SAVED_REPLIES}"""


def write_config(path: Path, base_url: str) -> Path:
    """Write the sandbox config to `path`, with its SQLite database `socialdesk.db` beside it."""
    path = Path(path).expanduser().resolve()
    make_private_dir(path.parent)
    database_url = f"sqlite:///{path.parent / 'socialdesk.db'}"
    with os.fdopen(open_private(path), "w", encoding="utf-8") as handle:
        handle.write(sandbox_config_text(base_url, database_url))
    return path
