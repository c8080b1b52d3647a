"""compose.yaml describes the same deployment as `scripts/run`: every service, on the ports the settings use."""

from __future__ import annotations

import yaml

from abg.services import SERVICES
from shared.settings import PROJECT_ROOT, Settings


def _compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())


def test_every_service_and_the_gateway_has_a_container_on_its_port() -> None:
    settings = Settings()
    services = _compose()["services"]
    for name in [spec.name for spec in SERVICES] + ["gateway"]:
        assert name in services, f"compose.yaml has no {name} service"
        port = settings.port_of(name)
        assert f"{port}:{port}" in services[name]["ports"]
        assert str(port) in services[name]["command"]


def test_services_reach_each_other_and_postgres_by_container_name() -> None:
    compose = _compose()
    settings = Settings()
    assert "postgres" in compose["services"]
    env = compose["services"][SERVICES[0].name]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DATABASE_URL"]
    for spec in SERVICES:
        assert env[f"ABG_{spec.name.upper()}_URL"] == f"http://{spec.name}:{settings.port_of(spec.name)}/graphql"
    assert env["ABG_ENV"] == "production"  # so development secrets are refused there


def test_the_gateway_serves_a_supergraph_composed_from_every_service() -> None:
    compose = _compose()
    settings = Settings()
    composer = compose["services"]["supergraph"]["command"]
    for spec in SERVICES:
        assert f"{spec.name}=http://{spec.name}:{settings.port_of(spec.name)}/graphql" in composer
        assert compose["services"]["supergraph"]["depends_on"][spec.name] == {"condition": "service_healthy"}
    output = composer[composer.index("-o") + 1]
    assert output in compose["services"]["gateway"]["command"]


def test_only_the_migration_knows_the_superuser_and_each_service_connects_as_its_role() -> None:
    services = _compose()["services"]
    migrate = services["migrate"]["environment"]
    assert migrate["DATABASE_URL"].startswith("postgresql://abg:")  # the image's superuser
    for spec in SERVICES:
        env = services[spec.name]["environment"]
        assert env["DATABASE_URL"].startswith(f"postgresql://abg_{spec.name}:${{ABG_{spec.name.upper()}_DB_PASSWORD")
        assert f"ABG_{spec.name.upper()}_DB_PASSWORD" in migrate  # set on the role by `abg migrate`
        assert not any(key.endswith("_DB_PASSWORD") for key in env)
    assert "DATABASE_URL" not in services["gateway"]["environment"]


def test_points_keeps_its_ledger_checkpoints_on_a_volume_of_its_own_with_a_key_of_its_own() -> None:
    points = _compose()["services"]["points"]
    assert points["environment"]["ABG_ENV"] == "production"
    assert points["environment"]["ABG_POINTS_CHECKPOINT_KEY"].startswith("${ABG_POINTS_CHECKPOINT_KEY:?")
    assert f"points-checkpoints:{points['environment']['ABG_POINTS_CHECKPOINT_DIR']}" in points["volumes"]


def test_each_service_signs_with_its_own_key_and_everyone_knows_all_the_public_keys() -> None:
    services = _compose()["services"]
    signers = {spec.name: spec.name for spec in SERVICES} | {"supergraph": "gateway"}  # the job composes as the gateway
    for container, identity in signers.items():
        env = services[container]["environment"]
        assert env["ABG_SERVICE_PRIVATE_KEY"].startswith(f"${{ABG_{identity.upper()}_SERVICE_PRIVATE_KEY:?")
        assert env["ABG_SERVICE_PUBLIC_KEYS"].startswith("${ABG_SERVICE_PUBLIC_KEYS:?")
    assert "ABG_SERVICE_PRIVATE_KEY" not in services["gateway"]["environment"]  # verifies, never signs
