# One image for every service and the gateway; compose.yaml picks the command.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir uv==0.13.8 \
 && uv pip install --system --require-hashes -r requirements.lock
COPY shared ./shared
COPY services ./services
COPY gateway ./gateway
COPY abg ./abg
RUN uv pip install --system --no-deps .
USER nobody
