"""Alembic runs migrations on the connection ``triage.store.database.migrate`` hands it;
the project never migrates from a command line of its own."""
from alembic import context

from triage.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")  # SQLite alters by copying tables
with context.begin_transaction():
    context.run_migrations()
