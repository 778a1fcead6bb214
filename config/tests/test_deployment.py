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


def test_compose_has_proxy_web_worker_beat_postgres_and_redis_with_health_checks():
    services = compose()["services"]
    assert {"proxy", "web", "worker", "beat", "db", "redis", "minio"} <= services.keys()
    for name in ("proxy", "web", "worker", "db", "redis", "minio"):
        assert "healthcheck" in services[name], name
    assert any(v.startswith("pgdata:") for v in services["db"]["volumes"])
    assert "pgdata" in compose()["volumes"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_compose_migrates_once_in_a_one_off_service_that_web_worker_and_beat_wait_for():
    services = compose()["services"]
    migrate = services["migrate"]
    assert migrate["command"] == "python manage.py migrate --noinput"
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert "migrate" not in migrate["depends_on"]  # it must not wait for itself
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert "migrate" not in services[name]["command"].replace("--no-migrate", ""), name


def test_compose_stores_frames_in_minio_through_a_private_bucket_and_shares_no_volume():
    services = compose()["services"]
    assert services["minio"]["image"].startswith("minio/minio:")
    assert any(v.startswith("miniodata:") for v in services["minio"]["volumes"])
    assert services["minio"]["ports"] == ["127.0.0.1:9000:9000"]  # presigned links; never public
    bucket = services["bucket"]
    script = bucket["command"][0]
    assert "mc mb --ignore-existing" in script and "mc anonymous set none" in script
    assert bucket["depends_on"]["minio"]["condition"] == "service_healthy"
    assert "media" not in compose()["volumes"]
    for name in ("web", "worker", "beat", "migrate"):
        service = services[name]
        env = service["environment"]
        assert "volumes" not in service, name  # nothing on a disk another host would need
        assert env["AWS_S3_ENDPOINT_URL"] == "http://minio:9000"
        assert env["AWS_STORAGE_BUCKET_NAME"].startswith("${AWS_STORAGE_BUCKET_NAME:-")
        assert env["AWS_S3_ADDRESSING_STYLE"] == "path"
        if name != "migrate":
            assert service["depends_on"]["bucket"]["condition"] == "service_completed_successfully"


def test_compose_scales_web_behind_the_proxy_and_runs_exactly_one_beat():
    services = compose()["services"]
    assert "container_name" not in services["web"] and "ports" not in services["web"]
    assert services["beat"]["deploy"]["replicas"] == 1
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = re.search(r"upstream web \{(.*?)\}", conf, re.S).group(1)
    # Re-resolved while running: replicas started by `--scale web=3` later still get traffic.
    assert "server web:8000 resolve;" in upstream and "zone web" in upstream
    assert "resolver 127.0.0.11" in conf
    image = services["proxy"]["image"].split()[0]
    major, minor, patch = (int(p) for p in image.split(":")[1].split("-")[0].split("."))
    assert (major, minor, patch) >= (1, 27, 3)  # `resolve` in an upstream, open-source nginx


def test_compose_app_services_use_only_variables_the_settings_know():
    known = settings_variables()
    for name in ("web", "worker", "beat", "migrate"):
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


def test_it_serves_in_compose_exactly_what_make_serve_runs_less_the_migrations():
    web = compose()["services"]["web"]
    assert web["command"].split("#")[0].strip() == "sh scripts/serve --no-migrate"
    assert "sh scripts/serve" in makefile_recipe("serve")
    assert 'CMD ["sh", "scripts/serve"]' in (ROOT / "Dockerfile").read_text()
    script = (ROOT / "scripts" / "serve").read_text()
    assert 'if [ "${1:-}" != "--no-migrate" ]; then' in script
    steps = [line.strip() for line in script.splitlines() if line.strip().startswith(('"$PYTHON"', "exec"))]
    assert steps == [
        '"$PYTHON" manage.py migrate --noinput',
        '"$PYTHON" manage.py collectstatic --noinput -v 0',
        'exec "$PYTHON" -m gunicorn -c config/gunicorn.py',
    ]


def test_serve_skips_only_the_migrations_when_told_to(tmp_path):
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho "$@" >> "$(dirname "$0")/calls"\n')
    fake.chmod(0o755)
    for args in ([], ["--no-migrate"]):
        subprocess.run(["sh", "scripts/serve", *args], cwd=ROOT, env={**os.environ, "PYTHON": str(fake)}, check=True)
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == [
        "manage.py migrate --noinput",
        "manage.py collectstatic --noinput -v 0",
        "-m gunicorn -c config/gunicorn.py",
        "manage.py collectstatic --noinput -v 0",
        "-m gunicorn -c config/gunicorn.py",
    ]


def test_it_lets_only_the_proxy_reach_the_web_service_and_trusts_only_its_address():
    services = compose()["services"]
    assert "ports" not in services["web"]  # reached through the proxy; `--scale web=3` needs no port each
    assert services["proxy"]["ports"] == ["8000:8080"]
    proxy_address = services["proxy"]["networks"]["default"]["ipv4_address"]
    assert services["web"]["environment"]["FORWARDED_ALLOW_IPS"] == proxy_address
    assert services["web"]["environment"]["HOST"] == "0.0.0.0"  # noqa: S104 - inside its container
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in services["proxy"]["volumes"]


def test_it_bounds_bodies_and_time_at_the_proxy_as_the_app_does():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    limit_mib = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))
    from django.conf import settings

    assert limit_mib * 1024 * 1024 == settings.REQUEST_BODY_MAX_BYTES
    assert re.search(r"client_body_timeout (\d+)s;", conf).group(1) == f"{settings.REQUEST_BODY_TIMEOUT_SECONDS:g}"
    assert "proxy_request_buffering on;" in conf
    # No query string (a WebSocket's ?token=) in the proxy's access log.
    log_format = re.search(r"log_format no_query (.*?);", conf, re.S).group(1)
    assert "$uri" in log_format and "$request_uri" not in log_format and "$request " not in log_format
    assert "access_log /dev/stdout no_query;" in conf
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf  # never what the client wrote


def gunicorn_settings(env: dict) -> dict:
    script = (
        "import json, runpy; c = runpy.run_path('config/gunicorn.py');"
        "print(json.dumps({k: c[k] for k in ('wsgi_app', 'workers', 'bind', 'forwarded_allow_ips')}"
        " | {'worker_class': c['worker_class'].__mro__[1].__module__, 'kwargs': c['worker_class'].CONFIG_KWARGS}))"
    )
    base = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "FORWARDED_ALLOW_IPS"}}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_gunicorn_config_serves_the_asgi_app_on_host_and_port_with_processes_from_settings():
    config = gunicorn_settings({"WEB_WORKERS": "5", "HOST": "0.0.0.0", "PORT": "8123"})  # noqa: S104
    assert config["wsgi_app"] == "config.asgi:application"
    assert config["worker_class"] == "uvicorn_worker._workers"
    assert (config["workers"], config["bind"]) == (5, "0.0.0.0:8123")
    assert config["kwargs"]["access_log"] is False  # query strings (tokens) stay out of the log


def test_it_trusts_forwarded_headers_from_no_proxy_unless_configured():
    assert gunicorn_settings({})["forwarded_allow_ips"] == ""
    assert gunicorn_settings({"FORWARDED_ALLOW_IPS": "10.0.0.2"})["forwarded_allow_ips"] == "10.0.0.2"


def test_make_run_serves_the_asgi_app_with_uvicorn_after_migrating():
    assert "HOST=$(HOST) PORT=$(PORT) $(PY) -m config.run" in makefile_recipe("run")
    assert re.search(r"^run:.*\bmigrate\b", (ROOT / "Makefile").read_text(), re.M)
    text = (ROOT / "config" / "run.py").read_text()
    assert '"config.asgi:application"' in text and "access_log=False" in text
    assert "proxy_headers=bool(settings.FORWARDED_ALLOW_IPS)" in text


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
