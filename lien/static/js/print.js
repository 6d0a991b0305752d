// The print button of a resident's appointment page. The strict CSP forbids inline handlers,
// so the button is wired here; it stays hidden when this script does not run (no JavaScript).
document.querySelectorAll(".print-action").forEach(function (block) {
  var button = block.querySelector("button");
  if (!button || typeof window.print !== "function") {
    return;
  }
  button.addEventListener("click", function () {
    window.print();
  });
  block.hidden = false;
});
