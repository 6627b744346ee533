# Production image. Build: docker build -t marketplace .
# Run:   docker run -p 8000:8000 -e APP_SECRET_KEY=... -e APP_DATABASE_URL=postgresql://... marketplace
# That serves the API and runs a task worker beside it. To scale them apart, from the same image:
#   API:     docker run ... marketplace marketplace serve --host 0.0.0.0 --port 8000 --workers 2 --no-demo --no-worker
#   workers: docker run ... marketplace marketplace worker --concurrency 4      (as many as needed)
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

RUN pip install --no-cache-dir "uv>=0.5"
WORKDIR /srv

# Dependencies first (cached while only the code changes).
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY alembic.ini ./
COPY alembic ./alembic
COPY app ./app
RUN uv sync --frozen --no-dev

# PostgreSQL refuses to run as root; the app never needs root either.
RUN useradd --system --uid 10001 --home-dir /srv app && mkdir -p /srv/.data && chown -R app /srv/.data
USER app

ENV PATH=/opt/venv/bin:$PATH \
    APP_ENVIRONMENT=production
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=2)"
# `serve` applies migrations, then runs uvicorn (uvloop + httptools, no access log) and a task worker.
CMD ["marketplace", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--no-demo"]
