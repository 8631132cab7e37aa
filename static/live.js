// Live indicator for the tracking page: shows whether the websocket is connected.
(function () {
  "use strict";
  var indicator = document.getElementById("live-indicator");
  if (!indicator) { return; }
  var text = indicator.querySelector(".live-text");
  // The close codes after which htmx's ws extension reconnects by itself: an abnormal end
  // (network, server gone), server error, service restart, try again later (a slow socket).
  var RETRIED = [1006, 1011, 1012, 1013];
  function show(state, message) {
    indicator.hidden = false;
    indicator.setAttribute("data-state", state);
    if (text) { text.textContent = message; }
  }
  show("reconnecting", "Connecting to live updates…");
  // Reconnect delay: full jitter over a window that doubles with each close that came before
  // any data (1 s, 2 s, ... 32 s). htmx's own count restarts at every open, and a server that
  // is busy after a restart accepts, then closes with 1013 "try again later": counted here, so
  // thousands of pages coming back spread out instead of returning in step.
  var refusedInARow = 0;
  if (window.htmx) {
    htmx.config.wsReconnectDelay = function (retryCount) {
      var n = Math.min(Math.max(retryCount, refusedInARow), 5);
      return 1000 * Math.pow(2, n) * Math.random();
    };
  }
  document.body.addEventListener("htmx:wsAfterMessage", function () { refusedInARow = 0; });
  document.body.addEventListener("htmx:wsOpen", function () { show("connected", "Live"); });
  document.body.addEventListener("htmx:wsClose", function (evt) {
    var closed = evt.detail && evt.detail.event;
    var code = closed && typeof closed.code === "number" ? closed.code : 1006;
    if (RETRIED.indexOf(code) >= 0) {
      refusedInARow += 1;
      show("reconnecting", "Reconnecting…");
    } else {
      // e.g. 1008: the link was revoked or expired. Nothing will reconnect; say so.
      show("offline", "Live updates stopped. Reload the page for the latest.");
    }
  });
  document.body.addEventListener("htmx:wsError", function () {
    // A close event follows and decides between reconnecting and offline.
    if (indicator.getAttribute("data-state") === "connected") {
      show("reconnecting", "Reconnecting…");
    }
  });
})();
