"""Third-party strings our Norwegian UI shows, marked here so `makemessages` keeps them.

viewflow 2.4 ships no Norwegian catalogue, and django-filter (used by viewflow's task-list filters)
is not an installed app, so neither brings bokmål. `makemessages` only scans this project, and
would mark translations of strings it no longer finds as obsolete: listing them here keeps them
in locale/nb/LC_MESSAGES/django.po. Never imported.

Left out: viewflow.contrib (profile, avatars, admin) and the two bulk export/delete plurals, none
of which this site shows. The msgids must match the libraries' exactly (including whitespace), so
regenerate rather than retype them when viewflow is upgraded.
"""
from django.utils.translation import gettext_noop, ngettext_lazy, pgettext_lazy

VIEWFLOW = (
    # forms/renderers.py
    gettext_noop('YYYY'),
    # forms/renderers.py
    gettext_noop('MM'),
    # forms/renderers.py
    gettext_noop('DD'),
    # forms/renderers.py
    gettext_noop('HH'),
    # forms/renderers.py
    gettext_noop('SS'),
    # forms/renderers.py
    gettext_noop('AM/PM'),
    # fsm/admin.py, fsm/viewset.py
    gettext_noop('Transition is not allowed'),
    # fsm/admin.py
    gettext_noop('%(label)s %(name)s'),
    # fsm/viewset.py, templates/viewflow/views/fsm_chart.html
    gettext_noop('State chart'),
    # templates/400.html
    gettext_noop('Bad Request'),
    # templates/400.html, templates/404.html, templates/500.html, templates/registration/password_ch
    gettext_noop('View site'),
    # templates/403.html
    gettext_noop('Access Forbidden'),
    # templates/403.html
    gettext_noop('You are not logged in'),
    # templates/403.html
    gettext_noop('%(user)s have no rights to access this page'),
    # templates/403.html, templates/registration/login.html, templates/registration/password_reset_c
    gettext_noop('Log in'),
    # templates/403.html
    gettext_noop('Log in as another user'),
    # templates/404.html
    gettext_noop('Page not found'),
    # templates/404.html
    gettext_noop("We're sorry, but the requested page could not be found."),
    # templates/500.html
    gettext_noop('Server error'),
    # templates/500.html
    gettext_noop("There's been an error. It's been reported to the site administrators via email and should be fixed shortly. Thanks for your patience."),
    # templates/admin/fsm_change_list.html
    gettext_noop('Recover deleted %(name)s'),
    # templates/admin/fsm_change_list.html
    gettext_noop('Graph'),
    # templates/admin/fsm_change_list.html, templates/viewflow/includes/list_filter.html
    gettext_noop('Filter'),
    # templates/admin/fsm_transition_form.html
    gettext_noop('Home'),
    # templates/admin/fsm_transition_form.html
    gettext_noop('Please correct the error below.'),
    # templates/admin/fsm_transition_form.html
    gettext_noop('Please correct the errors below.'),
    # templates/admin/fsm_transition_form.html
    gettext_noop('Yes, I’m sure'),
    # templates/admin/fsm_transition_form.html
    gettext_noop('No, take me back'),
    # templates/formtools/wizard/wizard_form.html
    gettext_noop('first step'),
    # templates/formtools/wizard/wizard_form.html
    gettext_noop('prev step'),
    # templates/registration/logged_out.html
    gettext_noop('Logout'),
    # templates/registration/logged_out.html, templates/viewflow/base_page.html
    gettext_noop('Log out'),
    # templates/registration/logged_out.html
    gettext_noop('Thanks for spending some quality time with the Web site today.'),
    # templates/registration/logged_out.html
    gettext_noop('Log in again'),
    # templates/registration/login.html
    gettext_noop('Viewflow Demo suite'),
    # templates/registration/login.html
    gettext_noop('Reset password'),
    # templates/registration/password_change_done.html, templates/registration/password_change_form.
    gettext_noop('Profile'),
    # templates/registration/password_change_done.html
    gettext_noop('Your password was changed.'),
    # templates/registration/password_change_form.html, templates/registration/profile.html, templat
    gettext_noop('Change'),
    # templates/registration/password_reset_complete.html
    gettext_noop('Your password has been set.  You may go ahead and log in now.'),
    # templates/registration/password_reset_confirm.html
    gettext_noop('Please enter your new password twice so we can verify you typed it in correctly.'),
    # templates/registration/password_reset_confirm.html
    gettext_noop('Change my password'),
    # templates/registration/password_reset_confirm.html
    gettext_noop('The password reset link was invalid, possibly because it has already been used.  Please request a new password reset.'),
    # templates/registration/password_reset_done.html
    gettext_noop('We’ve emailed you instructions for setting your password, if an account exists with the email you entered. You should receive them shortly.'),
    # templates/registration/password_reset_done.html
    gettext_noop('If you don’t receive an email, please make sure you’ve entered the address you registered with, and check your spam folder.'),
    # templates/registration/password_reset_form.html
    gettext_noop('Forgotten your password? Enter your email address below, and we’ll email instructions for setting a new one.'),
    # templates/registration/password_reset_form.html, templates/viewflow/workflow/process_cancel.ht
    gettext_noop('Cancel'),
    # templates/registration/password_reset_form.html
    gettext_noop('Reset'),
    # templates/registration/profile.html
    gettext_noop('Change password'),
    # templates/registration/profile.html
    gettext_noop('Edit'),
    # templates/registration/profile.html
    gettext_noop('Submit'),
    # templates/viewflow/base_page.html
    gettext_noop('Login'),
    # templates/viewflow/contrib/import_export/export_action.html
    gettext_noop('Export'),
    # templates/viewflow/contrib/import_export/export_action.html
    gettext_noop('\n                        Export all %(plural_name)s\n                      '),
    # templates/viewflow/contrib/import_export/export_action.html, templates/viewflow/contrib/import
    gettext_noop('Back'),
    # templates/viewflow/contrib/import_export/import_action.html
    gettext_noop('Import'),
    # templates/viewflow/contrib/import_export/import_action.html
    gettext_noop('\n                      Import %(plural_name)s\n                    '),
    # templates/viewflow/fsm/detail.html, templates/viewflow/views/detail.html
    gettext_noop('Flow Chart'),
    # templates/viewflow/fsm/includes/flow_chart_modal.html
    gettext_noop('Export PNG'),
    # templates/viewflow/fsm/includes/flow_chart_modal.html
    gettext_noop('PNG'),
    # templates/viewflow/fsm/list.html, workflow/models.py
    gettext_noop('Flow'),
    # templates/viewflow/includes/list_bulk_actions.html
    gettext_noop('Pick an action'),
    # templates/viewflow/includes/site_menu.html
    gettext_noop('Applications'),
    # templates/viewflow/views/confirm_delete.html, templates/viewflow/views/delete_action.html
    gettext_noop('Delete'),
    # templates/viewflow/views/confirm_delete.html
    gettext_noop('"%(escaped_object)s" and all of the following related items will be deleted'),
    # templates/viewflow/views/delete_action.html
    gettext_noop('\n                        Are you sure you want to delete all %(plural_name)s and related items?\n                      '),
    # templates/viewflow/views/form.html
    gettext_noop('New'),
    # templates/viewflow/views/form.html
    gettext_noop('Add'),
    # templates/viewflow/views/form.html
    gettext_noop('Save'),
    # templates/viewflow/views/transition.html
    gettext_noop('Confirm'),
    # templates/viewflow/workflow/assign.html, templates/viewflow/workflow/process_dashboard.html, t
    gettext_noop('Assign'),
    # templates/viewflow/workflow/assign.html, templates/viewflow/workflow/task_assign.html
    gettext_noop('Assign and continue'),
    # templates/viewflow/workflow/flow_menu.html
    gettext_noop('Dashboard'),
    # templates/viewflow/workflow/flow_menu.html, templates/viewflow/workflow/tasks_unassign.html, t
    gettext_noop('Inbox'),
    # templates/viewflow/workflow/flow_menu.html, templates/viewflow/workflow/tasks_assign.html, tem
    gettext_noop('Queue'),
    # templates/viewflow/workflow/flow_menu.html, templates/viewflow/workflow/workflow_menu.html, wo
    gettext_noop('Archive'),
    # templates/viewflow/workflow/process_cancel.html
    ngettext_lazy('\n                  This process can not be canceled while a task is still in progress.\n                ', '\n                  This process can not be canceled while tasks are still in progress.\n                '),
    # templates/viewflow/workflow/process_dashboard.html, templates/viewflow/workflow/process_data.h
    gettext_noop('Export BPMN'),
    # templates/viewflow/workflow/process_dashboard.html, templates/viewflow/workflow/process_data.h
    gettext_noop('BPMN'),
    # templates/viewflow/workflow/process_dashboard.html
    gettext_noop('No rights to execute'),
    # templates/viewflow/workflow/process_dashboard.html, templates/viewflow/workflow/tasks_assign.h
    gettext_noop('Created'),
    # templates/viewflow/workflow/process_dashboard.html, workflow/models.py
    gettext_noop('Assigned'),
    # templates/viewflow/workflow/process_dashboard.html, templates/viewflow/workflow/task.html
    gettext_noop('Execute'),
    # templates/viewflow/workflow/process_dashboard.html, views/create.py, views/update.py
    gettext_noop('View'),
    # templates/viewflow/workflow/process_dashboard.html
    gettext_noop('Show all'),
    # templates/viewflow/workflow/process_dashboard.html, templates/viewflow/workflow/process_detail
    gettext_noop('Finished'),
    # templates/viewflow/workflow/process_dashboard.html, templates/viewflow/workflow/process_list.h
    gettext_noop('Process list'),
    # templates/viewflow/workflow/process_data.html
    gettext_noop('Parent Task'),
    # templates/viewflow/workflow/process_data.html
    gettext_noop('Seed'),
    # templates/viewflow/workflow/process_data.html
    gettext_noop('Artifact'),
    # templates/viewflow/workflow/process_detail.html, workflow/flow/views/dashboard.py, workflow/fl
    gettext_noop('#'),
    # templates/viewflow/workflow/process_detail.html
    gettext_noop('Description'),
    # templates/viewflow/workflow/process_detail.html, workflow/models.py
    gettext_noop('Owner'),
    # templates/viewflow/workflow/process_detail.html, workflow/models.py
    gettext_noop('Started'),
    # templates/viewflow/workflow/process_detail.html, workflow/models.py
    gettext_noop('Status'),
    # templates/viewflow/workflow/start.html, templates/viewflow/workflow/workflow_tasks_list.html
    gettext_noop('Start'),
    # templates/viewflow/workflow/start.html
    gettext_noop('Start and continue'),
    # templates/viewflow/workflow/task.html
    gettext_noop('Execute and continue'),
    # templates/viewflow/workflow/task_detail.html
    gettext_noop('Previous tasks'),
    # templates/viewflow/workflow/task_detail.html
    gettext_noop('No previous tasks'),
    # templates/viewflow/workflow/task_detail.html
    gettext_noop('Next tasks'),
    # templates/viewflow/workflow/task_detail.html
    gettext_noop('No next tasks'),
    # templates/viewflow/workflow/task_detail.html
    gettext_noop('Subprocess'),
    # templates/viewflow/workflow/task_revive.html
    gettext_noop('Revive'),
    # templates/viewflow/workflow/task_unassign.html, templates/viewflow/workflow/tasks_unassign.htm
    gettext_noop('Unassign'),
    # templates/viewflow/workflow/task_undo.html
    gettext_noop('Undo'),
    # templates/viewflow/workflow/tasks_assign.html, workflow/flow/views/list.py
    gettext_noop('Assign selected tasks'),
    # templates/viewflow/workflow/tasks_assign.html, templates/viewflow/workflow/tasks_unassign.html
    gettext_noop('Task'),
    # templates/viewflow/workflow/tasks_assign.html, templates/viewflow/workflow/tasks_unassign.html
    gettext_noop('Brief'),
    # templates/viewflow/workflow/tasks_assign.html, templates/viewflow/workflow/tasks_unassign.html
    gettext_noop('Process brief'),
    # templates/viewflow/workflow/tasks_assign.html, templates/viewflow/workflow/tasks_unassign.html
    gettext_noop('confirm'),
    # templates/viewflow/workflow/tasks_unassign.html, workflow/flow/views/list.py
    gettext_noop('Unassign selected tasks'),
    # templates/viewflow/workflow/workflow_tasks_list.html
    gettext_noop('New process'),
    # urls/model.py
    gettext_noop('Add new'),
    # views/create.py
    gettext_noop('The {obj} was added successfully. {link}'),
    # views/delete.py
    gettext_noop('The {obj} was deleted successfully.'),
    # views/update.py
    gettext_noop('The {obj} was changed successfully. {link}'),
    # workflow/admin.py
    gettext_noop('flow'),
    # workflow/apps.py
    gettext_noop('Workflow'),
    # workflow/flow/views/actions.py
    gettext_noop('Task {task} has been assigned.'),
    # workflow/flow/views/actions.py
    gettext_noop('Task {task} has been unassigned.'),
    # workflow/flow/views/actions.py
    gettext_noop('Task {task} has been canceled.'),
    # workflow/flow/views/actions.py
    gettext_noop('Task {task} has been undone.'),
    # workflow/flow/views/actions.py
    gettext_noop('Task {task} has been revived.'),
    # workflow/flow/views/actions.py
    gettext_noop('Process #%(pk)s can not be canceled.'),
    # workflow/flow/views/actions.py
    gettext_noop('Process #%(pk)s has been canceled.'),
    # workflow/flow/views/create.py
    gettext_noop('Process {process} has been started.'),
    # workflow/flow/views/detail.py
    gettext_noop('You have no rights to view this task'),
    # workflow/flow/views/update.py
    gettext_noop('Task {task} has been completed.'),
    # workflow/flow/viewset.py
    gettext_noop('Processes'),
    # workflow/models.py
    gettext_noop('Type'),
    # workflow/models.py
    gettext_noop('Scheduled'),
    # workflow/models.py
    gettext_noop('Previous'),
    # workflow/models.py
    gettext_noop('Token'),
    # workflow/models.py
    gettext_noop('External Task ID'),
    # workflow/models.py
    gettext_noop('Permission'),
    # workflow/models.py
    gettext_noop('Process'),
    # workflow/models.py
    gettext_noop('Tasks'),
    # workflow/status.py
    pgettext_lazy('STATUS', 'Canceled'),
    # workflow/status.py
    pgettext_lazy('STATUS', 'Done'),
    # workflow/status.py
    pgettext_lazy('STATUS', 'New'),
    # workflow/status.py
    pgettext_lazy('STATUS', 'Assigned'),
    # workflow/status.py
    pgettext_lazy('STATUS', 'Error'),
    # workflow/status.py
    pgettext_lazy('STATUS', 'Revived'),
    # workflow/status.py
    pgettext_lazy('STATUS', 'Scheduled'),
    # workflow/status.py
    pgettext_lazy('STATUS', 'Started'),
)

# django_filters: the date-range choices and widgets of viewflow's inbox, queue and archive filters.
DJANGO_FILTER = (
    gettext_noop('Today'),
    gettext_noop('Yesterday'),
    gettext_noop('Past 7 days'),
    gettext_noop('This month'),
    gettext_noop('This year'),
    gettext_noop('All'),
    gettext_noop('Unknown'),
    gettext_noop('Yes'),
    gettext_noop('No'),
    gettext_noop('Multiple values may be separated by commas.'),
    gettext_noop('%s (descending)'),
    gettext_noop('Ordering'),
    gettext_noop('Select a lookup.'),
    gettext_noop('Range query expects two values.'),
)

# Django 5.2: the admin's and auth's strings (and a few form validators') that Django's own bokmål
# catalogue (last updated for Django 3.1) lacks, so the admin shows them in English. Left out: the
# language names of LANGUAGES entries this site does not offer. Regenerate when Django is upgraded
# (compare each app's locale/en with locale/nb).
DJANGO = (
    # core/validators.py
    gettext_noop('Enter a valid domain name.'),
    # core/validators.py
    gettext_noop('Enter a valid %(protocol)s address.'),
    # core/validators.py
    gettext_noop('IPv4'),
    # core/validators.py
    gettext_noop('IPv6'),
    # core/validators.py
    gettext_noop('IPv4 or IPv6'),
    # core/validators.py
    gettext_noop('Ensure this value is a multiple of step size %(limit_value)s, starting from %(offset)s, e.g. %(offset)s, %(valid_value1)s, %(valid_value2)s, and so on.'),
    # db/models/fields/__init__.py
    gettext_noop('String (unlimited)'),
    # db/models/fields/related.py
    gettext_noop('%(model)s instance with %(field)s %(value)r is not a valid choice.'),
    # contrib/admin/options.py
    gettext_noop('Select this object for an action - {}'),
    # contrib/admin/templates/admin/app_index.html
    gettext_noop('Breadcrumbs'),
    # contrib/admin/templates/admin/app_list.html
    gettext_noop('Model name'),
    # contrib/admin/templates/admin/app_list.html
    gettext_noop('Add link'),
    # contrib/admin/templates/admin/app_list.html
    gettext_noop('Change or view list link'),
    # contrib/admin/templates/admin/auth/user/add_form.html
    gettext_noop('After you’ve created a user, you’ll be able to edit more user options.'),
    # contrib/admin/templates/admin/auth/user/change_password.html
    gettext_noop('Error:'),
    # contrib/admin/templates/admin/auth/user/change_password.html
    gettext_noop('Set password'),
    # contrib/admin/templates/admin/auth/user/change_password.html
    gettext_noop('This action will <strong>enable</strong> password-based authentication for this user.'),
    # contrib/admin/templates/admin/auth/user/change_password.html
    gettext_noop('Disable password-based authentication'),
    # contrib/admin/templates/admin/auth/user/change_password.html
    gettext_noop('Enable password-based authentication'),
    # contrib/admin/templates/admin/base.html
    gettext_noop('Skip to main content'),
    # contrib/admin/templates/admin/change_list.html
    gettext_noop('Hide counts'),
    # contrib/admin/templates/admin/change_list.html
    gettext_noop('Show counts'),
    # contrib/admin/templates/admin/color_theme_toggle.html
    gettext_noop('Toggle theme (current theme: auto)'),
    # contrib/admin/templates/admin/color_theme_toggle.html
    gettext_noop('Toggle theme (current theme: light)'),
    # contrib/admin/templates/admin/color_theme_toggle.html
    gettext_noop('Toggle theme (current theme: dark)'),
    # contrib/admin/templates/admin/index.html
    gettext_noop('Added:'),
    # contrib/admin/templates/admin/index.html
    gettext_noop('Changed:'),
    # contrib/admin/templates/admin/index.html
    gettext_noop('Deleted:'),
    # contrib/admin/templates/admin/login.html
    gettext_noop('Forgotten your login credentials?'),
    # contrib/admin/templates/admin/nav_sidebar.html
    gettext_noop('Sidebar'),
    # contrib/admin/templates/admin/nav_sidebar.html
    gettext_noop('Start typing to filter…'),
    # contrib/admin/templates/admin/nav_sidebar.html
    gettext_noop('Filter navigation items'),
    # contrib/admin/templates/admin/object_history.html
    ngettext_lazy('entry', 'entries'),
    # contrib/admin/templates/admin/widgets/related_widget_wrapper.html
    gettext_noop('View selected %(model)s'),
    # contrib/admin/templates/registration/logged_out.html
    gettext_noop('Thanks for spending some quality time with the web site today.'),
    # contrib/admin/templates/registration/password_reset_email.html
    gettext_noop('In case you’ve forgotten, you are:'),
    # contrib/admin/templatetags/admin_list.py
    gettext_noop('Select all objects on this page for an action'),
    # contrib/auth/admin.py
    gettext_noop('Conflicting form data submitted. Please try again.'),
    # contrib/auth/admin.py
    gettext_noop('Password-based authentication was disabled.'),
    # contrib/auth/admin.py
    gettext_noop('Set password: %s'),
    # contrib/auth/forms.py
    gettext_noop('Reset password'),
    # contrib/auth/forms.py
    gettext_noop('Set password'),
    # contrib/auth/forms.py
    gettext_noop('Whether the user will be able to authenticate using a password or not. If disabled, they may still be able to authenticate using other backends, such as Single Sign-On or LDAP.'),
    # contrib/auth/forms.py
    gettext_noop('Password-based authentication'),
    # contrib/auth/forms.py
    gettext_noop('Enabled'),
    # contrib/auth/forms.py
    gettext_noop('Disabled'),
    # contrib/auth/forms.py
    gettext_noop('Raw passwords are not stored, so there is no way to see the user’s password.'),
    # contrib/auth/forms.py
    gettext_noop('Enable password-based authentication for this user by setting a password.'),
    # contrib/auth/password_validation.py
    ngettext_lazy('This password is too short. It must contain at least %d character.', 'This password is too short. It must contain at least %d characters.'),
    # contrib/auth/validators.py
    gettext_noop('Enter a valid username. This value may contain only unaccented lowercase a-z and uppercase A-Z letters, numbers, and @/./+/-/_ characters.'),
)

# django-axes 8.3 (the admin's login attempts and lockouts): it ships no bokmål catalogue.
AXES = (
    # axes/admin.py
    gettext_noop('Locked Out'),
    # axes/admin.py
    gettext_noop('Form Data'),
    # axes/admin.py
    gettext_noop('Meta Data'),
    # axes/admin.py
    gettext_noop('Clean up expired attempts'),
    # axes/admin.py
    gettext_noop('Cleaned up {count} expired access attempts.'),
    # axes/admin.py
    gettext_noop('Not set'),
    # axes/admin.py
    gettext_noop('Attempt Remaining'),
    # axes/conf.py
    gettext_noop('Account locked: too many login attempts. Please try again later.'),
    # axes/conf.py
    gettext_noop('Account locked: too many login attempts. Contact an admin to unlock your account.'),
    # axes/models.py
    gettext_noop('User Agent'),
    # axes/models.py
    gettext_noop('IP Address'),
    # axes/models.py
    gettext_noop('Username'),
    # axes/models.py
    gettext_noop('HTTP Accept'),
    # axes/models.py
    gettext_noop('Path'),
    # axes/models.py
    gettext_noop('Attempt Time'),
    # axes/models.py
    gettext_noop('Access lock out'),
    # axes/models.py
    gettext_noop('access failure'),
    # axes/models.py
    gettext_noop('access failures'),
    # axes/models.py
    gettext_noop('GET Data'),
    # axes/models.py
    gettext_noop('POST Data'),
    # axes/models.py
    gettext_noop('Failed Logins'),
    # axes/models.py
    gettext_noop('access attempt'),
    # axes/models.py
    gettext_noop('access attempts'),
    # axes/models.py
    gettext_noop('Access Attempt'),
    # axes/models.py
    gettext_noop('Expires At'),
    # axes/models.py
    gettext_noop('The time when access attempt expires and is no longer valid.'),
    # axes/models.py
    gettext_noop('access attempt expiration'),
    # axes/models.py
    gettext_noop('access attempt expirations'),
    # axes/models.py
    gettext_noop('Logout Time'),
    # axes/models.py
    gettext_noop('Session key hash (sha256)'),
    # axes/models.py
    gettext_noop('access log'),
    # axes/models.py
    gettext_noop('access logs'),
)

# django-guardian 3.5 and django-otp 1.7 name their apps and models in English only (no
# verbose_name, or one not marked). The admin's permission and content-type choices look these
# names up in the catalogue (accounts/admin_labels.py).
VENDOR_MODELS = (
    # guardian: its app and model names as Django derives them
    gettext_noop('Guardian'),
    gettext_noop('group object permission'),
    gettext_noop('user object permission'),
    # django_otp/plugins/otp_totp: the app's label title-cased, the model's verbose_name
    gettext_noop('Otp_Totp'),
    gettext_noop('TOTP device'),
)
