"""The migrations build the schema the models describe, on SQLite and PostgreSQL:
a column, an index or a constraint changed in `storage.models` without a
migration (or the other way round) fails here, not on an operator's database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.database import Database
from storage.models import Base


async def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await db.dispose()
    assert differences == []
