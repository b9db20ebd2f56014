// Dalil browser: the only script of the pages besides the vendored libraries (CSP: script-src 'self').
// Writes carry the CSRF token from the page's meta tag; errors of a write are shown as text.
"use strict";
(function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  document.body.addEventListener("htmx:configRequest", function (evt) {
    if (evt.detail.verb !== "get") {
      evt.detail.headers["X-CSRF-Token"] = token;
    }
  });
  document.body.addEventListener("htmx:responseError", function (evt) {
    var box = document.getElementById("tag-error");
    if (box) {
      var parsed = new DOMParser().parseFromString(evt.detail.xhr.responseText || "", "text/html");
      var msg = parsed.getElementById("error-message");
      box.textContent = "Not saved: " + (msg ? msg.textContent : evt.detail.xhr.status + " " + evt.detail.xhr.statusText);
      box.hidden = false;
    }
  });
  // a picture Pillow could not decode has no thumbnail: say so instead of a broken image
  document.querySelectorAll("img[data-thumb]").forEach(function (img) {
    img.addEventListener("error", function () {
      var note = document.createElement("span");
      note.className = "muted";
      note.textContent = "(no thumbnail)";
      img.replaceWith(note);
    });
    if (img.complete && img.naturalWidth === 0) { img.dispatchEvent(new Event("error")); }
  });
  // filter forms submit themselves when a choice changes (a plain GET: the URL is the state)
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function () { form.requestSubmit(); });
  });
  document.body.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (form && form.id === "tag-form" && evt.detail.successful) {
      form.reset();
      var box = document.getElementById("tag-error");
      if (box) { box.hidden = true; }
    }
  });
})();
