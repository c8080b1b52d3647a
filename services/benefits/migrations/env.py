from shared.database.migrations import run_env
from services.benefits.models import metadata

run_env(schema="benefits", metadata=metadata)
