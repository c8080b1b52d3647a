from shared.database.migrations import run_env
from services.points.models import metadata

run_env(schema="points", metadata=metadata)
