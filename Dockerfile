# nlpops API image: `docker build -t nlpops .` then `docker compose up` (docker-compose.yml).
# Stage 1 builds a virtualenv with CPU-only torch; stage 2 copies it into a slim image run as a
# non-root user. EXTRAS picks the optional dependencies (deep = torch + gensim; add transformers
# for the transformer kinds, fr for the French use case).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG EXTRAS=deep
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
# torch from the CPU index first (no CUDA wheels: ~10x smaller); constraints.txt pins torch==2.13.0,
# which the CPU build (2.13.0+cpu) satisfies, so the second install keeps it.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install -c constraints.txt ".[${EXTRAS}]"

FROM ${PYTHON_IMAGE} AS runtime
# libgomp1: OpenMP runtime of LightGBM / XGBoost
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin nlpops \
    && mkdir /mlartifacts && chown nlpops:nlpops /mlartifacts \
    && mkdir -p /var/lib/nlpops/spool && chown -R nlpops:nlpops /var/lib/nlpops  # compose volumes
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY --chown=nlpops:nlpops configs ./configs
COPY --chown=nlpops:nlpops data/sample ./data/sample
RUN chown nlpops:nlpops /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    MPLBACKEND=Agg \
    NLPOPS_DATA_DIR=/app/data \
    NLPOPS_MODEL_CACHE_DIR=/app/.nlpops-cache \
    NLPOPS_SPOOL_DIR=/var/lib/nlpops/spool
USER nlpops
EXPOSE 8000
# /ready: 200 once a model is loaded and the database answers, 503 (exit 1 here) otherwise
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)"]
CMD ["nlpops", "serve", "--host", "0.0.0.0", "--port", "8000"]
