from shared.database.migrations import run_env
from services.members.models import metadata

run_env(schema="members", metadata=metadata)
