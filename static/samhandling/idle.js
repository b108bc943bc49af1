/* Samhandling: the idle-timeout warning. The server ends a login after a number of minutes without
 * a request (config.middleware.IdleTimeoutMiddleware) whether or not this script runs; the script
 * only warns shortly before and offers to stay logged in.
 *
 * The page carries the warning (#sh-idle-warning, hidden) with the timeout and the warning time in
 * seconds. Every page load counts as activity; so does a load in another tab (shared through
 * localStorage). "Stay logged in" posts the warning's form to the keep-alive URL in the
 * background, so nothing typed on the page is lost. When the time is up the page is loaded again:
 * the server answers with the login page and says why.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "samhandling.lastActivity";
  var MARGIN_MS = 2000; // the server logs out strictly after the timeout
  var timer = null;
  var expired = false;

  function warning() {
    return document.getElementById("sh-idle-warning");
  }

  function now() {
    return Date.now();
  }

  function lastActivity() {
    var own = window.__shIdleLastActivity || now();
    try {
      var shared = parseInt(window.localStorage.getItem(STORAGE_KEY), 10);
      if (shared > own) return shared;
    } catch (e) { /* storage disabled: this tab's own clock */ }
    return own;
  }

  function touch() {
    var t = now();
    window.__shIdleLastActivity = t;
    try { window.localStorage.setItem(STORAGE_KEY, String(t)); } catch (e) { /* ignore */ }
  }

  function hide(el) {
    if (el && !el.hidden) el.hidden = true;
  }

  function tick() {
    var el = warning();
    if (!el || expired) return;
    var timeoutMs = parseInt(el.getAttribute("data-timeout"), 10) * 1000;
    var warningMs = parseInt(el.getAttribute("data-warning"), 10) * 1000;
    if (!timeoutMs) return;
    var idle = now() - lastActivity();
    if (idle >= timeoutMs + MARGIN_MS) {
      expired = true;
      window.location.assign(window.location.href.split("#")[0]);
    } else if (idle >= timeoutMs - warningMs) {
      if (el.hidden) {
        el.hidden = false;
        var button = el.querySelector("button");
        if (button) button.focus();
      }
    } else {
      hide(el);
    }
  }

  function keepAlive(event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-idle-keep-alive")) return;
    event.preventDefault();
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (response.status === 204) {
          touch();
          hide(warning());
        } else {
          expired = true;
          window.location.assign(window.location.href.split("#")[0]);
        }
      })
      .catch(function () { /* offline: the next tick tries again or expires */ });
  }

  function start() {
    touch();
    expired = false;
    hide(warning());
    if (timer === null) timer = window.setInterval(tick, 5000);
  }

  document.addEventListener("submit", keepAlive, true);
  // A page load is a request, and so activity. Turbo swaps the body without a new page load.
  document.addEventListener("turbo:load", start);
  document.addEventListener("DOMContentLoaded", start);
  window.addEventListener("storage", function (event) {
    if (event.key === STORAGE_KEY) tick();
  });
})();
