# The practice page's MediaPipe Pose from the pinned npm package (no CDN at run time).
FROM node:20-slim AS frontend
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json frontend/copy-vendor.sh ./
# --omit=dev: axe-core, the browser tests' accessibility checker, has no place in the image.
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error && sh copy-vendor.sh

FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    NUMBA_CACHE_DIR=/app/.numba-cache \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
COPY --from=frontend /frontend/vendor/mediapipe-pose /app/frontend/vendor/mediapipe-pose
# The app never needs root: run as an unprivileged user that owns only media, static and the
# pose kernels' compiled cache (compiled here once, so no container compiles at start).
RUN useradd --create-home --uid 10001 app \
    && mkdir -p /app/media /app/staticfiles \
    && DEBUG=false SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput \
    && python -c "import analyses.analyzers.pose" \
    && chown -R app:app /app/media /app/staticfiles /app/.numba-cache
USER app

EXPOSE 8000
CMD ["sh", "scripts/serve"]
