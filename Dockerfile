# Learning Cycles: one image for every platform; the environment decides what runs.
# Several replicas may run from it against one PostgreSQL (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CYCLES_DATA_DIR=/data CYCLES_BOT__PROMPTS_DIR=/app/prompts
WORKDIR /app
COPY pyproject.toml README.md bot.toml ./
COPY bot ./bot
COPY integrations ./integrations
COPY prompts ./prompts
RUN pip install . && useradd --system --uid 10001 --home /app cycles \
    && mkdir -p /data && chown cycles /data
USER cycles
VOLUME ["/data"]
# 3000: Slack HTTP mode (/slack/events); 8080: /healthz and /metrics (ops.port).
EXPOSE 3000 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)" || exit 1
# SIGTERM stops it gracefully: intake first, then what is in flight (at most ~30 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["cycles"]
CMD ["run"]
