// Keeps a job's page up to date (jobs/admin.py): polls the job's small JSON view every
// second while it runs, moves the bar, shows the texts the view composed (done / total,
// 每秒 N 行) and reloads the page once the job has ended so that its result, files and
// log appear. Local file: no CDN.
(function () {
  "use strict";
  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }
  function show(state) {
    var fill = document.getElementById("job-bar-fill");
    if (fill) { fill.style.width = state.percent + "%"; }
    var status = document.getElementById("job-status");
    if (status) {
      status.textContent = state.status_label;
      status.className = "job-status job-status-" + state.status;
    }
    text("job-progress-text", state.progress_text);
    text("job-stage", state.stage || "");
    text("job-rate", state.rate_text || "");
    text("job-eta", state.eta ? "预计还需 " + state.eta : "");
    text("job-elapsed", state.elapsed || "—");
  }
  function poll(box) {
    fetch(box.dataset.progressUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (!state) { setTimeout(function () { poll(box); }, 3000); return; }
        show(state);
        if (state.finished) { window.location.reload(); return; }
        setTimeout(function () { poll(box); }, 1000);
      })
      .catch(function () { setTimeout(function () { poll(box); }, 3000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("job");
    if (box && box.dataset.finished === "0") { setTimeout(function () { poll(box); }, 500); }
  });
})();
