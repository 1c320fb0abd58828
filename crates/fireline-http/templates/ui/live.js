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
  // Being edited: focus inside, a field changed or holding text (a draft sent back with
  // its preview has the text as its default), a choice changed, or a preview shown.
  function editing(part) {
    var focused = document.activeElement;
    if (focused && focused !== document.body && part.contains(focused)) { return true; }
    if (part.querySelector(".preview")) { return true; }
    var fields = part.querySelectorAll("textarea, input:not([type=hidden])");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value !== fields[i].defaultValue) { return true; }
      if (fields[i].tagName === "TEXTAREA" && fields[i].value.trim() !== "") { return true; }
    }
    var choices = part.querySelectorAll("select");
    for (var j = 0; j < choices.length; j++) {
      var options = choices[j].options;
      for (var k = 0; k < options.length; k++) {
        if (options[k].selected !== options[k].defaultSelected) { return true; }
      }
    }
    return false;
  }
  function signedOut() {
    live.textContent = "Signed out: reload the page to sign in again";
    source.close();
  }
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(live.getAttribute("data-fragment") || window.location.href, { credentials: "same-origin" })
      .then(function (r) {
        // An ended session answers with the sign-in page (after a redirect).
        if (r.redirected && new URL(r.url).pathname === "/ui/signin") {
          signedOut();
          return Promise.reject("signed out");
        }
        return r.ok ? r.text() : Promise.reject(r.status);
      })
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
      .catch(function (why) {
        if (why !== "signed out") { live.textContent = "Live updates paused: reload the page"; }
      })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }
  source.addEventListener("changed", refresh);
  source.onerror = function () {
    // CLOSED: the browser gave up (the feed answered with something else, such as the
    // sign-in page); otherwise it retries by itself.
    if (source.readyState === EventSource.CLOSED) { signedOut(); } else { live.textContent = "Reconnecting…"; }
  };
  source.onopen = function () { live.textContent = "Live"; };
}());
