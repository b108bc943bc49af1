"""Start-up checks of the organisation kernel."""
from django.core import checks

from org.recording import has_access_log_writer


@checks.register()
def access_log_writer_registered(app_configs, **kwargs):
    if has_access_log_writer():
        return []
    return [checks.Error("No access-log writer is registered for membership and person changes.",
                         hint="Install the 'audit' app; its AppConfig.ready registers the writer.", id="org.E001")]
