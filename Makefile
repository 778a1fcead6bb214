# Every target does its own set-up: a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/dancecoach
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# Set REQUIRE_SERVICES=1 (as .ci/run does) to fail instead of skipping the services half.
REQUIRE_SERVICES ?= 0

.PHONY: run serve test test-embedded test-services lint format migrate worker beat superuser seed clean client client-check frontend

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The practice page's MediaPipe Pose (models, wasm, scripts) from the pinned npm package, copied into
# a git-ignored static folder: the page loads nothing from a CDN. Only the model the page uses is copied.
FRONTEND_VENDOR := frontend/vendor/mediapipe-pose

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

$(FRONTEND_VENDOR)/.copied: frontend/node_modules/.package-lock.json frontend/copy-vendor.sh
	sh frontend/copy-vendor.sh
	touch $@

# Without npm everything but the page's pose detection works, so set-up goes on and says so.
frontend:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(FRONTEND_VENDOR)/.copied; \
	else echo "npm not found: the practice page runs without pose detection (apt-get install npm, then make frontend)"; fi

# uvicorn serves the ASGI app: the API, the admin (static files by WhiteNoise) and the WebSocket.
run: $(VENV)/.runtime frontend migrate
	HOST=$(HOST) PORT=$(PORT) $(PY) -m config.run

# The production web server, started exactly as docker-compose.yml's web service starts it.
serve: $(VENV)/.runtime frontend
	HOST=$(HOST) PORT=$(PORT) PYTHON=$(PY) sh scripts/serve

migrate: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput

test: test-embedded test-services

test-embedded: $(VENV)/.dev frontend
	env -u DATABASE_URL -u REDIS_URL -u CELERY_TASK_ALWAYS_EAGER $(PY) -m pytest

test-services: $(VENV)/.dev frontend
	@if $(PY) scripts/services_check.py "$(TEST_DATABASE_URL)" "$(TEST_REDIS_URL)"; then \
		SERVICES=1 DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" CELERY_TASK_ALWAYS_EAGER=true \
			$(PY) -m pytest; \
	elif [ "$(REQUIRE_SERVICES)" = "1" ]; then \
		echo "services half: PostgreSQL or Redis not answering and REQUIRE_SERVICES=1"; exit 1; \
	else \
		echo "services half skipped: PostgreSQL ($(TEST_DATABASE_URL)) or Redis ($(TEST_REDIS_URL)) not answering"; \
	fi

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: $(VENV)/.runtime
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: $(VENV)/.runtime
	$(VENV)/bin/celery -A config beat --loglevel=INFO

superuser: migrate
	$(PY) manage.py createsuperuser

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles frontend/vendor

# Proof under attack and under load (bench/; PostgreSQL and Redis on localhost). `make faults`
# stops and restarts the machine's Redis and PostgreSQL: SCENARIOS=gemini,kill leaves them alone.
.PHONY: fuzz faults load
SCENARIOS ?= gemini,kill,redis,postgres

fuzz: $(VENV)/.dev
	$(PY) bench/fuzz.py

faults: $(VENV)/.dev
	$(PY) bench/faults.py --scenarios $(SCENARIOS)

load: $(VENV)/.dev
	$(PY) bench/load.py

# TypeScript types of the API for front-end developers (clients/typescript/), from the schema of
# the default settings (a clean environment), so the output is the same on every machine.
CLIENT := clients/typescript

$(CLIENT)/node_modules/.package-lock.json: $(CLIENT)/package.json $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund --loglevel=error

client: $(VENV)/.runtime $(CLIENT)/node_modules/.package-lock.json
	env -i PATH="$$PATH" HOME="$$HOME" $(PY) manage.py spectacular --format openapi-json --file $(CLIENT)/openapi.json
	cd $(CLIENT) && npx --no-install openapi-typescript openapi.json --output schema.d.ts --default-non-nullable false --silent && rm openapi.json
	cd $(CLIENT) && npx --no-install tsc --noEmit

# CI: the committed types must be those of the schema, and the documented example must compile.
client-check: client
	@git diff --quiet -- $(CLIENT)/schema.d.ts || { \
		echo "$(CLIENT)/schema.d.ts is not the schema's: run make client and commit it"; exit 1; }
