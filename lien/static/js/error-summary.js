// After a form error the page opens on its error summary (lien/templates/_error_summary.html).
// Its `autofocus` does that in most browsers; this covers the others. A link of the summary
// moves the focus into its field (a jump to an anchor alone may only scroll there).
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) {
    return;
  }
  if (document.activeElement !== summary) {
    summary.focus();
  }
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) {
      return;
    }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) {
      return;
    }
    var input = field.matches("input, select, textarea, button")
      ? field
      : field.querySelector("input, select, textarea, button");
    if (input) {
      event.preventDefault();
      var label = document.querySelector("label[for='" + CSS.escape(input.id) + "']") || field;
      label.scrollIntoView();
      input.focus({ preventScroll: true });
    }
  });
})();
