# Learning Cycles: one image for every platform; the environment decides what runs.
# Several replicas may run from it against one PostgreSQL (see docker-compose.yml).
# Build: docker build -t learning-cycles .   (dependencies come from requirements/run.txt)

# -- build: a virtual environment with the locked dependencies, then the project's wheel ------
FROM python:3.11.14-slim-trixie AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
# The dependencies alone, in their own layer: a code change does not reinstall them.
COPY requirements/run.txt requirements/build.txt /tmp/requirements/
RUN /opt/venv/bin/pip install --require-hashes -r /tmp/requirements/run.txt \
    && pip install --require-hashes -r /tmp/requirements/build.txt
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY integrations ./integrations
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/dist . \
    && /opt/venv/bin/pip install --no-deps /tmp/dist/learning_cycles-*.whl

# -- run: the environment above, tini as PID 1, an unprivileged user ---------------------------
FROM python:3.11.14-slim-trixie
# tini forwards signals to the bot and reaps any child process it leaves.
RUN apt-get update && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app cycles \
    && mkdir -p /data && chown cycles /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    CYCLES_DATA_DIR=/data
WORKDIR /app
COPY bot.toml ./
USER cycles
VOLUME ["/data"]
# 3000: Slack HTTP mode (/slack/events); 3978: Teams (/api/messages); 8080: /healthz and
# /metrics (ops.port). In the image, change the ops port with CYCLES_OPS__PORT: the health check
# reads the same variable.
EXPOSE 3000 3978 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
        "http://127.0.0.1:${CYCLES_OPS__PORT:-8080}/healthz" || exit 1
# SIGTERM stops it gracefully: intake first, then what is in flight (at most ~30 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["tini", "--", "cycles"]
CMD ["run"]
