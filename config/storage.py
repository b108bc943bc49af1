"""Static files storage for production: whitenoise's compressed manifest storage, tolerant of
vendor CSS that names a file the vendor never shipped.

viewflow 2.4 ships ``viewflow/fonts/roboto/node_modules/roboto-fontface/css/roboto/roboto-fontface.css``
(a copy nobody includes) whose ``url('./Roboto-Thin.woff2')`` points at a file that does not exist;
Django's manifest post-processing then aborts ``collectstatic``, no manifest is written and every
page that uses ``{% static %}`` answers 500. viewflow is not ours to patch, so a missing target in a
third-party file is left as it is (a broken link in a file no page loads) with a warning, while a
missing target in our own ``static/samhandling/`` files still fails the build.
"""
import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)

# Files under these prefixes are ours: a reference to a missing file there is a bug, not noise.
STRICT_PREFIXES = ("samhandling/",)


class SamhandlingStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._warned_missing = set()

    def url_converter(self, name, hashed_files, template=None):
        convert = super().url_converter(name, hashed_files, template)
        if name.replace("\\", "/").startswith(STRICT_PREFIXES):
            return convert

        def converter(matchobj):
            try:
                return convert(matchobj)
            except ValueError as exc:
                if "could not be found" not in str(exc):
                    raise
                if name not in self._warned_missing:
                    self._warned_missing.add(name)
                    logger.warning("collectstatic: %s names missing files (%s …); left unchanged", name, matchobj["url"])
                return matchobj["matched"]

        return converter
