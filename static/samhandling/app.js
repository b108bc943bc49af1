/* Samhandling: small progressive enhancements. Every page works without this file.
 *
 * Forms marked data-kind-switch show only the fieldsets (data-kind="…") that apply to the kind
 * chosen in the form's "kind" radio buttons. The others are hidden and disabled, so what the user
 * typed there before switching is not sent. Without JavaScript every fieldset shows, each legend
 * says when it applies, and the server validates.
 *
 * A form returned with errors moves the focus to its error summary, so screen-reader and keyboard
 * users land on the list of what to fix (each entry links to its field).
 */
(function () {
  "use strict";

  function sync(form) {
    var checked = form.querySelector('input[name="kind"]:checked');
    if (!checked) return;
    form.querySelectorAll("fieldset[data-kind]").forEach(function (fieldset) {
      var off = fieldset.getAttribute("data-kind") !== checked.value;
      fieldset.hidden = off;
      fieldset.disabled = off;
    });
  }

  function syncAll() {
    document.querySelectorAll("form[data-kind-switch]").forEach(sync);
    var summary = document.querySelector(".sh-error-summary");
    if (summary && !summary.contains(document.activeElement)) summary.focus();
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.name === "kind" && target.form && target.form.hasAttribute("data-kind-switch")) sync(target.form);
  });
  // Hotwire Turbo swaps the body without a new page load; turbo:load also fires on the first load.
  document.addEventListener("turbo:load", syncAll);
  document.addEventListener("turbo:render", syncAll);
  document.addEventListener("DOMContentLoaded", syncAll);
})();
