// chittysync dashboard: live updates (docs/UI.md, "Live").
// The page is drawn by the server. This script only listens to /events and,
// at each change, fetches the same URL again as a fragment and swaps it into
// <main>: no reload. The fragment is HTML the server escaped (docs/UI.md,
// "Escaping"); nothing here builds markup from data.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var main = document.getElementById("main");
  if (!live || !main || !window.EventSource) return;
  var lost = false;
  var busy = false;
  var again = false;
  var source = null;

  function say(state, text) {
    live.setAttribute("data-state", state);
    live.textContent = text;
  }

  function swap(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    // Someone typing in the filters keeps their form as it is.
    var focused = document.activeElement;
    var form = main.querySelector("form.filters");
    var fresh = template.content.querySelector("form.filters");
    if (form && fresh && focused && form.contains(focused)) {
      fresh.replaceWith(form);
    }
    // Open <details> stay open.
    var open = {};
    main.querySelectorAll("details[open]").forEach(function (d, i) { open[i] = true; });
    main.replaceChildren(template.content);
    main.querySelectorAll("details").forEach(function (d, i) { if (open[i]) d.open = true; });
    var n = Number(document.body.getAttribute("data-updates") || "0") + 1;
    document.body.setAttribute("data-updates", String(n));
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    again = false;
    fetch(location.pathname + location.search, {
      headers: { "X-Fragment": "1" },
      cache: "no-store",
      credentials: "same-origin"
    }).then(function (r) {
      return r.ok || r.status === 404 ? r.text() : null;
    }).then(function (html) {
      if (html !== null) swap(html);
    }).catch(function () {
      // The stream says when the server is gone.
    }).then(function () {
      busy = false;
      if (again) refresh();
    });
  }

  function connect() {
    source = new EventSource("/events");
    source.addEventListener("hello", function () {
      if (lost) {
        lost = false;
        say("live", "reconnected — live again");
        refresh();
      } else {
        say("live", "live");
      }
    });
    source.addEventListener("change", refresh);
    source.onerror = function () {
      lost = true;
      say("lost", "connection lost — reconnecting…");
      // The browser retries by itself, unless the server refused the stream.
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, 2000);
      }
    };
  }

  connect();
})();
