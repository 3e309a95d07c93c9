// The job page follows its job: poll the session-authenticated progress.json until finished.
// Only textContent and numeric attributes are set, never HTML, so file names and error texts
// cannot inject markup.
(function () {
  "use strict";
  var root = document.getElementById("job");
  if (!root || root.dataset.finished === "1") { return; }
  var url = root.dataset.progressUrl;

  function text(el, value) { if (el) { el.textContent = String(value); } }

  function render(d) {
    var finished = d.files_done + d.files_failed;
    var bar = document.getElementById("job-bar");
    bar.max = Math.max(d.files_total, 1);
    bar.value = finished;
    text(document.getElementById("job-pct"), d.percent + "%");
    text(document.getElementById("job-files"), finished + "/" + d.files_total);
    text(document.getElementById("job-failed"), d.files_failed);
    text(document.getElementById("job-pages"), d.pages_done + "/" + d.pages_total);
    d.files.forEach(function (f) {
      var row = document.getElementById("file-" + f.id);
      if (!row) { return; }
      var state = row.querySelector(".state");
      text(state, f.state_label);
      state.className = "state " + (f.state === "done" ? "ok" : (f.state === "failed" ? "bad" : ""));
      text(row.querySelector(".pages"), f.pages_done + "/" + f.pages_total);
      var fbar = row.querySelector(".bar");
      fbar.max = Math.max(f.pages_total, 1);
      fbar.value = f.pages_done;
      text(row.querySelector(".seconds"), f.seconds);
      text(row.querySelector(".error-text"), f.error || f.note || "");  // note: e.g. 页数不符
    });
    if (d.finished) {
      var status = document.getElementById("job-status");
      text(status, "完成：" + d.files_done + " 个文件成功，" + d.files_failed + " 个失败");
      status.className = d.files_failed ? "bad" : "ok";
      root.dataset.finished = "1";
    }
  }

  function tick() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (d) { render(d); }
        if (!d || !d.finished) { setTimeout(tick, 1500); }
      })
      .catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 1000);
})();
