/* The BrukerPlan report's progress bar (templates/brukerplan/_report_status.html): polls the
 * progress address every two seconds, moves the <progress> bar and its text (an aria-live region,
 * so a screen reader hears the change) in per cent (the address gives no count of persons: a small
 * one would tell what the report hides), and reloads the page when the computation has ended, which
 * then shows the report or why it failed. Without this file the page's "Refresh" link does the same.
 */
(function () {
  "use strict";

  function watch(box) {
    var url = box.getAttribute("data-bp-report-progress");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-bp-report-text]");
    var timer = null;

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return;
          if (data.status === "done" || data.status === "failed") {
            window.clearInterval(timer);
            window.location.reload();
            return;
          }
          bar.max = 100;
          bar.value = data.percent;
          bar.textContent = data.percent + " %";
          if (text) text.textContent = data.label + ": " + data.percent + " %";
        })
        .catch(function () { /* a missed poll: the next one tries again */ });
    }

    timer = window.setInterval(poll, 2000);
  }

  function start() {
    document.querySelectorAll("[data-bp-report-progress]").forEach(watch);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
