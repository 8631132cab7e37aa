# Tracking portal image. Build context: the repository root (see .dockerignore).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 portal \
 && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin portal

WORKDIR /app

# Dependencies in their own layer, rebuilt only when the lock changes: the exact versions the tests
# ran on, each checked against its hash (`make lock` refreshes requirements.lock).
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

# The package itself (its dependencies are already installed).
COPY pyproject.toml README.md ./
COPY portal/ portal/
COPY realtime/ realtime/
COPY carriers/ carriers/
RUN pip install --no-deps . && rm -rf build ./*.egg-info

# Read from the working directory at run time.
COPY templates/ templates/
COPY static/ static/

# The code stays root-owned; the portal user may only create files in /app
# (the default SQLite database) and in the instance folder.
RUN install -d -o portal -g portal /app/instance && chown portal:portal /app

USER portal

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["portal", "serve", "--host", "0.0.0.0", "--port", "8000"]
