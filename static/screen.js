// The order screen: copy buttons, clearing a form after it was sent, and showing refusals.
(function () {
  "use strict";
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    field.select();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
  // htmx leaves 4xx answers unshown by default; the screen's answers to refused actions are
  // fragments that say what was wrong, so show them where the form asked.
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr.status;
    if (status === 409 || status === 422 || status === 400 || status === 404) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
  // A live frame inserts new timeline entries and notices (wrapped in an element whose
  // children go in); one already on the page, because the snapshot this page started from was
  // newer than the frame, is not inserted twice. Whole parts (outerHTML) replace as usual.
  document.body.addEventListener("htmx:oobBeforeSwap", function (evt) {
    var wrapper = evt.detail.fragment;
    if (!wrapper || wrapper.nodeType !== 1) { return; }
    Array.prototype.slice.call(wrapper.children).forEach(function (child) {
      if (child.id && document.getElementById(child.id)) { wrapper.removeChild(child); }
    });
    if (!wrapper.children.length) { evt.detail.shouldSwap = false; }
  });
  document.body.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (evt.detail.successful && form && form.hasAttribute && form.hasAttribute("data-reset-on-success")) {
      form.reset();
    }
  });
})();
