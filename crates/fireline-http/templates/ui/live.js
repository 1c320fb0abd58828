// Live pages: when the server says something changed (server-sent events from the URL in
// #live's data-events), fetch the page again (or its data-fragment) and swap in every
// element marked data-live, by id. A part marked data-keep-while-editing is left alone
// while the user has focus in it or has typed into it, so nothing being written is lost.
// No framework; without EventSource the page still works by reloading.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource || !window.DOMParser) { return; }
  var source = new EventSource(live.getAttribute("data-events") || "/ui/events");
  var busy = false;
  var again = false;
  function editing(part) {
    var focused = document.activeElement;
    if (focused && focused !== document.body && part.contains(focused)) { return true; }
    var fields = part.querySelectorAll("textarea, input:not([type=hidden])");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value !== fields[i].defaultValue) { return true; }
    }
    return false;
  }
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(live.getAttribute("data-fragment") || window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var parts = document.querySelectorAll("[data-live]");
        for (var i = 0; i < parts.length; i++) {
          var part = parts[i];
          var next = fresh.getElementById(part.id);
          if (!next) { continue; }
          if (part.hasAttribute("data-keep-while-editing") && editing(part)) { continue; }
          part.replaceWith(document.importNode(next, true));
        }
        live.textContent = "Live · updated " + new Date().toLocaleTimeString();
      })
      .catch(function () { live.textContent = "Live updates paused: reload the page"; })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }
  source.addEventListener("changed", refresh);
  source.onerror = function () { live.textContent = "Reconnecting…"; };
  source.onopen = function () { live.textContent = "Live"; };
}());
