/* Strings viewflow's own script (viewflow.min.js) translates through Django's JavaScript catalogue
 * (/jsi18n/, config/urls.py), marked here so `makemessages -d djangojs` keeps them in
 * locale/nb/LC_MESSAGES/djangojs.po. Never loaded. The month and weekday names of viewflow's date
 * pickers come from django.contrib.admin's own catalogue. The msgids must match viewflow's exactly. */
gettext("%(sel)s of %(cnt)s selected");
gettext("%(sel)s selected");
/* django.contrib.admin's scripts (the two-list selector, the calendar): Django 5.2 strings its own
 * bokmål catalogue lacks (see DJANGO in config/i18n_vendor.py). */
gettext("Choose %s by selecting them and then select the \"Choose\" arrow button.");
gettext("Choose all %s");
gettext("Choose selected %s");
gettext("Remove selected %s");
gettext("Remove %s by selecting them and then select the \"Remove\" arrow button.");
gettext("Type into this box to filter down the list of selected %s.");
gettext("(click to clear)");
gettext("Remove all %s");
ngettext("%s selected option not visible", "%s selected options not visible", 0);
gettext("Sunday");
gettext("Monday");
gettext("Tuesday");
gettext("Wednesday");
gettext("Thursday");
gettext("Friday");
gettext("Saturday");
pgettext("abbrev. day Sunday", "Sun");
pgettext("abbrev. day Monday", "Mon");
pgettext("abbrev. day Tuesday", "Tue");
pgettext("abbrev. day Wednesday", "Wed");
pgettext("abbrev. day Thursday", "Thur");
pgettext("abbrev. day Friday", "Fri");
pgettext("abbrev. day Saturday", "Sat");
