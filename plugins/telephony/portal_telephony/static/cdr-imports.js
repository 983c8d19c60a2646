// Polls the progress of the CDR imports still running on the "CDR imports" page
// (plugins/telephony/README.md, "CDR import"): no inline script, the CSP allows 'self' only.
(function () {
  "use strict";
  var table = document.getElementById("imports-table");
  if (!table) { return; }
  var labels = JSON.parse(table.dataset.labels || "{}");  // the statuses in the page's language
  function pending() {
    return Array.prototype.filter.call(table.querySelectorAll("tr[data-progress]"), function (row) {
      return row.dataset.state !== "done" && row.dataset.state !== "failed";
    });
  }
  function refresh() {
    var rows = pending();
    if (!rows.length) { return; }
    rows.forEach(function (row) {
      fetch(row.dataset.progress, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          row.dataset.state = data.status;
          row.querySelector(".status").textContent = labels[data.status] || data.status;
          row.querySelector(".percent").textContent = data.percent + " %";
          ["rated", "rejected", "duplicates"].forEach(function (key) {
            row.querySelector("." + key).textContent = data[key];
          });
        });
    });
    window.setTimeout(refresh, 3000);
  }
  window.setTimeout(refresh, 1000);
})();
