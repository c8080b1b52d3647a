from shared.database.migrations import run_env
from services.redemptions.models import metadata

run_env(schema="redemptions", metadata=metadata)
