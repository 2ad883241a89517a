# One image for web, worker and beat (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=magflow.settings \
    PROMETHEUS_MULTIPROC_DIR=/tmp/magflow-metrics
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN useradd --create-home magflow && mkdir -p var && chown -R magflow var
USER magflow

EXPOSE 8000
# Empties the container's Prometheus multiprocess folder, then runs the command.
ENTRYPOINT ["docker/entrypoint.sh"]
CMD ["gunicorn", "magflow.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
