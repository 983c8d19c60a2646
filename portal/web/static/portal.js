// The shell's behaviour, bound by data attributes: pages carry no inline script or event
// handler, which the Content-Security-Policy forbids (portal/web/security_headers.py).
(function () {
  "use strict";

  // <form data-confirm="Delete?">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);

  function applyStyles(root) {
    // data-colour: a badge in a colour staff chose; data-width: a progress bar's share.
    root.querySelectorAll("[data-colour]").forEach(function (el) {
      el.style.backgroundColor = el.dataset.colour;
    });
    root.querySelectorAll("[data-width]").forEach(function (el) {
      el.style.width = el.dataset.width + "%";
    });
  }

  // <form data-preview="URL">: post the form to URL while typing and show the answer
  // (subject, body or error) in #preview-subject, #preview-body and #preview-error.
  function livePreview(form) {
    var error = document.getElementById("preview-error");
    var timer = null;
    function refresh() {
      fetch(form.dataset.preview, {method: "POST", body: new FormData(form), credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          error.textContent = data.error || "";
          error.classList.toggle("d-none", !data.error);
          if (!data.error) {
            document.getElementById("preview-subject").textContent = data.subject;
            document.getElementById("preview-body").textContent = data.body;
          }
        });
    }
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 400); });
  }

  // <a data-canned-text="..." data-canned-target="SELECTOR">: put the text into the textarea at
  // the cursor (replacing a selection), keeping what was typed, without leaving the page. The
  // link's href still works without this script (the page reloads with the text filled in).
  function insertAtCursor(box, text) {
    var start = box.selectionStart, end = box.selectionEnd;
    if (typeof start !== "number") { start = end = box.value.length; }
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.setSelectionRange(start + text.length, start + text.length);
    box.dispatchEvent(new Event("input", {bubbles: true}));
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-canned-text]");
    var box = link && document.querySelector(link.dataset.cannedTarget);
    if (box) {
      event.preventDefault();
      insertAtCursor(box, link.dataset.cannedText);
    }
  });

  // <button data-print>: the browser's print dialog (a report's printable page).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) {
      window.print();
    }
  });

  function start() {
    applyStyles(document);
    document.querySelectorAll("form[data-preview]").forEach(livePreview);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
