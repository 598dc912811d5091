// stackwatch console: copy buttons, and live updates from /events (Server-Sent Events).
// Served from the binary; no network beyond the console itself.
"use strict";

(function () {
  const live = () => document.getElementById("live");

  function say(text) {
    const l = live();
    if (l) l.textContent = text;
  }

  // Copy buttons: <button data-copy="ID"> copies the text of the element with that id.
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-copy]");
    if (!button) return;
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    const text = source.textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {
      const range = document.createRange();
      range.selectNodeContents(source);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      document.execCommand("copy");
      sel.removeAllRanges();
    }
    button.textContent = "Copied";
    say("Copied " + button.getAttribute("aria-label").replace(/^Copy /, ""));
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });

  // Live updates: each finished reconcile re-fetches this page and swaps every
  // [data-live] section in place (forms are outside them, so typing is never lost).
  let refreshing = null;
  async function refresh() {
    const path = document.body.dataset.path;
    const url = location.pathname === path ? location.pathname + location.search : path;
    const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!resp.ok) return;
    const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
    for (const old of document.querySelectorAll("[data-live][id]")) {
      const fresh = doc.getElementById(old.id);
      if (fresh && fresh.innerHTML !== old.innerHTML) {
        old.replaceWith(document.importNode(fresh, true));
      }
    }
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
  }

  if (window.EventSource && document.body.dataset.path) {
    const events = new EventSource("/events");
    events.addEventListener("open", () => { document.body.dataset.live = "connected"; });
    events.addEventListener("error", () => { document.body.dataset.live = "reconnecting"; });
    events.addEventListener("reconcile", (e) => {
      let a = {};
      try { a = JSON.parse(e.data); } catch (_) { /* keep going */ }
      document.body.dataset.lastEvent = e.lastEventId;
      // Announce what matters (drift, a change, a failure), not every quiet resync.
      if (a.drift || a.result !== "success" || (a.changes && a.changes.length)) {
        say("Reconciled " + (a.stack || "") + ": " + (a.result || "") + (a.drift ? " (drift)" : ""));
      }
      // One refresh at a time; a burst of events ends with one more.
      refreshing = (refreshing || Promise.resolve()).then(refresh).catch(() => {});
    });
  }
})();
