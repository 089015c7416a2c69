# Real or RNN? served on the CPU, with the shipped checkpoints.
#
#   docker build -t realornn .
#   docker run --rm -p 8000:8000 -v realornn-data:/app/data realornn
#   open http://localhost:8000
#
# /app/data (a volume) holds everything the server writes: the SQLite database (players, rounds,
# every guess, the passage bank) and the generated cookie-signing key. Pass -e SECRET_KEY=...
# to choose the key, -e DATABASE_URL=... for another database, -e POOL_TARGET=... and the other
# settings of app/config.py likewise. More workers (each loads every model):
#   docker run ... realornn realornn serve --host 0.0.0.0 --port 8000 --workers 2
# A host folder instead of the named volume (-v "$PWD/data:/app/data") must be writable by
# uid 10001, the server's user: chown 10001 data.
# The HEALTHCHECK asks port 8000: keep that port inside the container (map it with -p).

# -- the project's files, readable by the server's user whatever the checkout's modes -------------
# COPY keeps the modes of the build context, and a checkpoint written 0600 (as training and
# umask 077 do) would reach the image unreadable to the non-root user. Fixing them here, in a
# stage of its own, costs the final image no second copy of the checkpoints.
FROM python:3.11-slim AS source
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app app
COPY models models
COPY templates templates
COPY static static
RUN find . -type d -exec chmod 0755 {} + \
    && find . -type f -exec chmod 0644 {} +

# -- the image -----------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# torch first, from PyTorch's CPU index: PyPI's Linux wheel is a multi-GB CUDA build. The
# project's pin (torch==2.13.0) is then already met by 2.13.0+cpu, so pip keeps it.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

# The dependencies before the code, so that editing the code does not reinstall them: install
# the project from its metadata and an empty package, then remove it, keeping its dependencies.
COPY --from=source /src/pyproject.toml /src/README.md ./
COPY --from=source /src/app/__init__.py app/__init__.py
# With the PostgreSQL driver (psycopg, binary: a few MB), so one image serves either database.
RUN pip install '.[postgres]' \
    && pip uninstall -y realornn \
    && rm -rf build realornn.egg-info

# The rarely changing files first, the code last.
COPY --from=source /src/models models
COPY --from=source /src/templates templates
COPY --from=source /src/static static
COPY --from=source /src/app app

# Editable, so app.config.PROJECT_ROOT is /app and finds templates/, static/ and models/.
# The import fails the build, not the first start, when a dependency is missing.
RUN pip install --no-deps -e . \
    && python -m compileall -q app \
    && python -c "import app.web.main" \
    && groupadd --gid 10001 realornn \
    && useradd --uid 10001 --gid realornn --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin realornn \
    && mkdir -p /app/data \
    && chown realornn:realornn /app/data \
    && chmod 0700 /app/data

# The code and the checkpoints stay root's and read-only; the server writes to /app/data only.
ENV DATA_DIR=/app/data \
    MODELS_DIR=/app/models \
    TEMPLATES_DIR=/app/templates \
    STATIC_DIR=/app/static
VOLUME ["/app/data"]
USER realornn

EXPOSE 8000
# Loading the models and building the copy guards takes a while: a generous start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

CMD ["realornn", "serve", "--host", "0.0.0.0", "--port", "8000"]
