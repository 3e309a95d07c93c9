// Page viewer: zoom and rotate the page image (no inline script: the CSP allows 'self' only).
(function () {
  "use strict";
  var img = document.getElementById("page-image");
  var frame = document.getElementById("image-frame");
  if (!img || !frame) { return; }
  var zoom = 1, angle = 0;
  var label = document.getElementById("zoom-label");

  function apply() {
    img.style.width = (zoom * 100) + "%";
    img.style.transform = "rotate(" + angle + "deg)";
    frame.classList.toggle("sideways", angle % 180 !== 0);
    if (label) { label.textContent = Math.round(zoom * 100) + "%"; }
    img.dataset.zoom = String(zoom);
    img.dataset.angle = String(angle);
  }
  function on(id, fn) {
    var el = document.getElementById(id);
    if (el) { el.addEventListener("click", fn); }
  }
  on("zoom-in", function () { zoom = Math.min(4, zoom + 0.25); apply(); });
  on("zoom-out", function () { zoom = Math.max(0.5, zoom - 0.25); apply(); });
  on("zoom-reset", function () { zoom = 1; angle = 0; apply(); });
  on("rotate", function () { angle = (angle + 90) % 360; apply(); });
  apply();
})();
