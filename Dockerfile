FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY care ./care
COPY storage ./storage
COPY bot ./bot
COPY jobs ./jobs
COPY admin ./admin
COPY ocrebot ./ocrebot
RUN pip install . && useradd --system --uid 10001 --home-dir /app ocrebot && mkdir -p /app/data \
    && chown ocrebot /app/data

USER ocrebot
ENV HTTP_HOST=0.0.0.0 HTTP_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["sh", "-c", "ocrebot migrate && exec ocrebot run"]
