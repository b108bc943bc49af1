FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
# Production pins only: the test tools live in requirements-dev.txt, which the image never installs.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_EMBEDDED=1 python manage.py compilemessages --ignore=.venv -v0 \
 && DJANGO_SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 CELERY_BROKER_URL=memory:// SITE_URL=https://build.invalid \
    python manage.py collectstatic --noinput -v0
RUN useradd --system --uid 1000 samhandling \
    && mkdir -p /var/lib/beat /var/lib/mail-journal && chown samhandling /var/lib/beat /var/lib/mail-journal
USER samhandling
EXPOSE 8000
# The access log leaves out query strings (config/gunicorn.conf.py).
CMD ["gunicorn", "-c", "config/gunicorn.conf.py"]
