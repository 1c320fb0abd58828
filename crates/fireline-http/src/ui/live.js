// Live list: when the server says incidents changed, fetch the list fragment again and
// swap it in. No framework; if EventSource is missing the page still works by reloading.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource) { return; }
  var source = new EventSource("/ui/events");
  function refresh() {
    fetch(live.getAttribute("data-fragment"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var old = document.getElementById("incidents");
        var box = document.createElement("div");
        box.innerHTML = html;
        if (old && box.firstElementChild) { old.replaceWith(box.firstElementChild); }
        live.textContent = "Live · updated " + new Date().toLocaleTimeString();
      })
      .catch(function () { live.textContent = "Live updates paused: reload the page"; });
  }
  source.addEventListener("changed", refresh);
  source.onerror = function () { live.textContent = "Reconnecting…"; };
  source.onopen = function () { live.textContent = "Live"; };
}());
