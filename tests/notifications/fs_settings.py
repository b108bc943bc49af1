"""Test settings for a worker on kombu's filesystem broker (`make run`'s), in TEST_BROKER_DIR instead
of var/broker, so a test never touches a running demo's queues."""
import os
from pathlib import Path

from config.settings_test import *  # noqa: F401,F403

_broker_dir = Path(os.environ["TEST_BROKER_DIR"])
CELERY_BROKER_URL = "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": str(_broker_dir / "out"),
    "data_folder_out": str(_broker_dir / "out"),
    "processed_folder": str(_broker_dir / "processed"),
    "control_folder": str(_broker_dir / "control"),
}
