/* Samhandling: small progressive enhancements. Every page works without this file.
 *
 * Forms marked data-kind-switch show only the fieldsets (data-kind="…") that apply to the kind
 * chosen in the form's "kind" radio buttons. The others are hidden and disabled, so what the user
 * typed there before switching is not sent. Without JavaScript every fieldset shows, each legend
 * says when it applies, and the server validates.
 *
 * A form returned with errors moves the focus to its error summary, so screen-reader and keyboard
 * users land on the list of what to fix (each entry links to its field).
 *
 * The shell (templates/viewflow/base_page.html): the menu marks the current page (aria-current); the
 * menu button and the user-menu button say whether what they open is open (aria-expanded); a table
 * wider than a phone scrolls inside itself and, when it holds nothing focusable, can be focused so
 * the keyboard scrolls it; viewflow's filter button opens with Enter or Space as well as a click.
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

  function markCurrentMenuLink() {
    var path = window.location.pathname, best = null;
    document.querySelectorAll(".sh-menu a.sh-menu__link").forEach(function (link) {
      link.removeAttribute("aria-current");
      if (path.indexOf(link.pathname) === 0 && (!best || link.pathname.length > best.pathname.length)) best = link;
    });
    if (best) best.setAttribute("aria-current", "page");
  }

  function syncExpanded() {
    var page = document.querySelector("vf-page");
    var userToggle = document.querySelector(".vf-page__menu-toggle-button[aria-controls]");
    if (page && userToggle) userToggle.setAttribute("aria-expanded", String(page.classList.contains("vf-page__menu--secondary-open")));
    var drawer = document.getElementById("sh-drawer");
    var menuButton = document.querySelector(".sh-menu-button");
    if (drawer && menuButton) {
      var open = drawer.classList.contains("mdc-drawer--open") && !drawer.classList.contains("mdc-drawer--closing");
      menuButton.setAttribute("aria-expanded", String(open));
    }
  }

  function watchDrawer() {
    var drawer = document.getElementById("sh-drawer");
    if (!drawer || drawer.hasAttribute("data-sh-watched")) return;
    drawer.setAttribute("data-sh-watched", "");
    // Material's drawer changes its classes as it opens and closes, at both widths.
    new MutationObserver(syncExpanded).observe(drawer, { attributes: true, attributeFilter: ["class"] });
    var page = document.querySelector("vf-page");
    if (page) new MutationObserver(syncExpanded).observe(page, { attributes: true, attributeFilter: ["class"] });
  }

  function focusableScroll() {
    document.querySelectorAll(".sh-table, .sh-table-scroll, .vf-list__table, .mdc-data-table").forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1;
      var focusable = el.querySelector("a[href], button, input, select, textarea, [tabindex]");
      if (scrolls && !focusable) el.setAttribute("tabindex", "0");
      else if (el.getAttribute("tabindex") === "0" && !scrolls) el.removeAttribute("tabindex");
    });
  }

  // Parts marked data-shows-for="name=value" show only while that radio button is chosen (the
  // emergency numbers while a concern is marked acute). Without JavaScript they always show.
  function syncShown(form) {
    form.querySelectorAll("[data-shows-for]").forEach(function (part) {
      var rule = part.getAttribute("data-shows-for").split("=");
      var checked = form.querySelector('input[name="' + rule[0] + '"]:checked');
      part.hidden = !(checked && checked.value === rule[1]);
    });
  }

  // Material icons are ligature words ("download", "more_vert"): a screen reader would read them out.
  // Our templates hide them; this also hides those of viewflow's own pages, and names a control whose
  // only content was the icon after its title.
  function hideIconWords() {
    document.querySelectorAll(".material-icons:not([aria-hidden]), .mdc-fab__icon:not([aria-hidden])").forEach(function (icon) {
      icon.setAttribute("aria-hidden", "true");
      var control = icon.closest("a, button, [role=button]");
      if (control && !control.hasAttribute("aria-label") && !control.textContent.replace(icon.textContent, "").trim() && control.title) {
        control.setAttribute("aria-label", control.title);
      }
    });
  }

  function syncAll() {
    hideIconWords();
    markCurrentMenuLink();
    watchDrawer();
    syncExpanded();
    focusableScroll();
    document.querySelectorAll("form[data-kind-switch]").forEach(sync);
    document.querySelectorAll("form").forEach(syncShown);
    var summary = document.querySelector(".sh-error-summary");
    if (summary && !summary.contains(document.activeElement)) summary.focus();
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.name === "kind" && target.form && target.form.hasAttribute("data-kind-switch")) sync(target.form);
    if (target.form && target.form.querySelector("[data-shows-for]")) syncShown(target.form);
  });
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if ((event.key === "Enter" || event.key === " ") && target.tagName && target.tagName.indexOf("-") > 0 && target.getAttribute("role") === "button") {
      event.preventDefault();
      target.click();
    }
  });
  window.addEventListener("resize", focusableScroll);
  // Hotwire Turbo swaps the body without a new page load; turbo:load also fires on the first load.
  document.addEventListener("turbo:load", syncAll);
  document.addEventListener("turbo:render", syncAll);
  document.addEventListener("DOMContentLoaded", syncAll);
})();
