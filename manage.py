#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if not any(os.environ.get(v) for v in ("DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_EMBEDDED", "DJANGO_DEMO", "DJANGO_DEBUG")):
        # A checkout with nothing configured is a developer's machine: use the embedded defaults
        # (SQLite, filesystem broker) and say so. The web and worker processes never do this, so a
        # production deployment that lacks its secrets still fails loudly at start-up.
        os.environ["DJANGO_EMBEDDED"] = "1"
        print("manage.py: no DJANGO_SECRET_KEY or DATABASE_URL set; using the embedded development settings", file=sys.stderr)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
