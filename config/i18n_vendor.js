/* Strings viewflow's own script (viewflow.min.js) translates through Django's JavaScript catalogue
 * (/jsi18n/, config/urls.py), marked here so `makemessages -d djangojs` keeps them in
 * locale/nb/LC_MESSAGES/djangojs.po. Never loaded. The month and weekday names of viewflow's date
 * pickers come from django.contrib.admin's own catalogue. The msgids must match viewflow's exactly. */
gettext("%(sel)s of %(cnt)s selected");
gettext("%(sel)s selected");
