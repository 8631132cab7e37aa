"""Alembic environment: runs on the connection portal.db.Database.migrate hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

# Importing the table modules registers their tables on the metadata.
import portal.models
import portal.models_crm
import portal.models_inquiries
import portal.models_records
import portal.models_reports
import portal.models_screen
import portal.models_staff  # noqa: F401

target_metadata = SQLModel.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `portal migrate`, which supplies the connection")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
