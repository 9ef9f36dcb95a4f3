"""Alembic environment: migrations run on the engine socialdesk opened, never on a URL in a file."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import socialdesk.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
import socialdesk.store.team_models  # noqa: F401  (and team mode's)

target_metadata = SQLModel.metadata


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Full-text tables and indexes are created by hand-written migrations (0004);
    autogenerate must not drop them."""
    return not (type_ in ("table", "index") and name is not None
                and name.startswith("message_fts"))


def run_migrations_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
