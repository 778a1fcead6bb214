"""The deployment files agree with the settings and the Makefile (no Docker engine runs here)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def settings_variables() -> set[str]:
    text = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r'env_(?:str|bool|int|float|list)\("([A-Z0-9_]+)"', text))


def env_example_variables() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z0-9_]+)=", line)
        if match:
            names.add(match.group(1))
    return names


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def makefile_recipe(target: str) -> str:
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.M)
    assert match, f"no {target} target"
    return match.group(1)


def test_env_example_lists_every_variable_the_settings_read():
    assert settings_variables() - env_example_variables() == set()


def test_compose_has_web_worker_beat_postgres_and_redis_with_health_checks():
    services = compose()["services"]
    assert {"web", "worker", "beat", "db", "redis"} <= services.keys()
    for name in ("web", "worker", "db", "redis"):
        assert "healthcheck" in services[name], name
    assert any(v.startswith("pgdata:") for v in services["db"]["volumes"])
    assert "pgdata" in compose()["volumes"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_compose_app_services_use_only_variables_the_settings_know():
    known = settings_variables()
    for name in ("web", "worker", "beat"):
        env = compose()["services"][name]["environment"]
        assert set(env) <= known, set(env) - known
        assert env["DEBUG"] == "false"
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379")


def test_compose_worker_and_beat_run_the_makefile_commands():
    services = compose()["services"]
    for target in ("worker", "beat"):
        recipe = makefile_recipe(target).strip()
        command = recipe.replace("$(VENV)/bin/", "")
        assert services[target]["command"] == command


def test_compose_web_runs_gunicorn_with_uvicorn_workers_on_the_asgi_app_after_migrating():
    web = compose()["services"]["web"]
    assert "manage.py migrate --noinput" in web["command"]
    assert "gunicorn -c config/gunicorn.py" in web["command"]
    assert web["environment"]["DB_POOL"] == "true"  # ASGI: pooled, not per-thread persistent connections
    requirements = (ROOT / "requirements.txt").read_text()
    for package in ("gunicorn==", "uvicorn[standard]==", "uvicorn-worker==", "channels==", "channels-redis=="):
        assert package in requirements, package
    assert 'CMD ["gunicorn", "-c", "config/gunicorn.py"]' in (ROOT / "Dockerfile").read_text()


def test_gunicorn_config_serves_the_asgi_app_with_the_number_of_workers_from_settings():
    script = (
        "import json, runpy; c = runpy.run_path('config/gunicorn.py');"
        "print(json.dumps({k: c[k] for k in ('wsgi_app', 'worker_class', 'workers', 'bind')}))"
    )
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**base, "WEB_WORKERS": "5"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout.strip().splitlines()[-1])
    assert config == {
        "wsgi_app": "config.asgi:application",
        "worker_class": "uvicorn_worker.UvicornWorker",
        "workers": 5,
        "bind": "0.0.0.0:8000",
    }


def test_make_run_serves_the_asgi_app_with_uvicorn_after_migrating():
    recipe = makefile_recipe("run")
    assert "uvicorn config.asgi:application" in recipe
    assert "--host $(HOST) --port $(PORT)" in recipe
    assert re.search(r"^run:.*\bmigrate\b", (ROOT / "Makefile").read_text(), re.M)


def test_compose_gives_the_worker_time_for_a_warm_shutdown_longer_than_the_hard_time_limit():
    grace = compose()["services"]["worker"]["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) > 120


def test_dockerfile_runs_as_a_non_root_user():
    text = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert "requirements.txt" in text


PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-" + "y" * 20,
    "ALLOWED_HOSTS": "coach.example.com",
    "CORS_ALLOWED_ORIGINS": "https://coach.example.com",
}


def run_manage(*args, env):
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr and "issues" in result.stdout


def test_production_without_secret_key_stops_with_a_clear_message():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
