// Live indicator for the tracking page: shows whether the websocket is connected.
(function () {
  "use strict";
  var indicator = document.getElementById("live-indicator");
  if (!indicator) { return; }
  var text = indicator.querySelector(".live-text");
  function show(state, message) {
    indicator.hidden = false;
    indicator.setAttribute("data-state", state);
    if (text) { text.textContent = message; }
  }
  show("reconnecting", "Connecting to live updates…");
  document.body.addEventListener("htmx:wsOpen", function () { show("connected", "Live"); });
  document.body.addEventListener("htmx:wsClose", function () {
    show("reconnecting", "Reconnecting…");
  });
  document.body.addEventListener("htmx:wsError", function () {
    show("reconnecting", "Reconnecting…");
  });
})();
