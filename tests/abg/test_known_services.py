"""The default ABG_KNOWN_SERVICES is the launcher's registry plus the gateway: shared/ cannot import
the registry, so this keeps the two in step."""

from abg.services import service_names
from shared.settings import Settings


def test_the_default_known_services_are_the_registry_and_the_gateway() -> None:
    default = Settings.model_fields["known_services"].default
    assert Settings(known_services=default).known_service_names == {*service_names(), "gateway"}
