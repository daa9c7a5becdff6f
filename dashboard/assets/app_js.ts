/**
 * The dashboard's script, served at `${basePath}/assets/app.js`: asks before
 * destructive actions, and follows `${basePath}/events` (Server-Sent Events)
 * to refresh the page's live parts in place: it fetches the page again and
 * swaps every `[data-live]` element for its new version, at most once a
 * second, and once whenever the stream (re)opens. It reads its settings from `<body data-…>` attributes only
 * (the CSP allows no inline script).
 *
 * @example
 * ```ts
 * import { APP_JS } from "./app_js.ts";
 *
 * console.log(APP_JS.includes("EventSource")); // true
 * ```
 *
 * @module
 */

/** The script's text. */
export const APP_JS: string = `"use strict";
(function () {
  var body = document.body;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
  var eventsUrl = body.getAttribute("data-events-url");
  if (!eventsUrl || typeof EventSource === "undefined") return;
  var watchQueue = body.getAttribute("data-watch-queue");
  var watchJob = body.getAttribute("data-watch-job");
  var pending = false;
  var last = 0;
  function refresh() {
    pending = false;
    last = Date.now();
    fetch(window.location.href, { headers: { accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (text === null) return;
        var fresh = new DOMParser().parseFromString(text, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (old) {
          var next = fresh.querySelector('[data-live="' + old.getAttribute("data-live") + '"]');
          if (next) old.replaceWith(document.importNode(next, true));
        });
        body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {});
  }
  function schedule() {
    if (pending) return;
    pending = true;
    setTimeout(refresh, Math.max(0, 1000 - (Date.now() - last)));
  }
  var source = new EventSource(eventsUrl);
  // The stream starts where the server found each queue's end when it
  // connected: a change between this page's rendering and that moment is
  // caught by refreshing once the stream is open (and after a reconnect).
  source.onopen = function () {
    body.setAttribute("data-live-state", "open");
    schedule();
  };
  source.onerror = function () { body.setAttribute("data-live-state", "retrying"); };
  source.onmessage = function (message) {
    var event;
    try { event = JSON.parse(message.data); } catch (e) { return; }
    if (watchJob && event.jobId !== watchJob) return;
    if (watchQueue && event.queue !== watchQueue) return;
    schedule();
  };
})();
`;
