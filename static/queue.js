// The inquiry queue: ticks each countdown once a second between server pushes, and fills the
// CSRF field of forms the server pushed (frames are shared, so they carry no token).
// States (due soon, breached) are never decided here: the server pushes them.
(function () {
  "use strict";
  var csrf = document.getElementById("queue-csrf");
  function fill() {
    if (!csrf) { return; }
    document.querySelectorAll("#queue-list input[data-csrf]").forEach(function (input) {
      input.value = csrf.value;
    });
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("#queue-list time[data-due]").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("data-due")) - now) / 1000);
      var sign = left < 0 ? "overdue " : "in ";
      left = Math.abs(left);
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = sign + (h ? h + "h " : "") + (h || m ? m + "m " : "") + s + "s";
    });
  }
  fill();
  tick();
  setInterval(tick, 1000);
  document.body.addEventListener("htmx:oobAfterSwap", function () { fill(); tick(); });
  document.body.addEventListener("htmx:wsAfterMessage", function () { fill(); tick(); });
  var live = document.getElementById("queue-live");
  document.body.addEventListener("htmx:wsOpen", function () { if (live) { live.hidden = false; } });
  document.body.addEventListener("htmx:wsClose", function () { if (live) { live.hidden = true; } });
})();
