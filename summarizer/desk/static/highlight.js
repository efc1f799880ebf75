// Highlights the article sentences that support a bullet: on hover or focus while the pointer is on
// it, pinned by a click (click again to unpin). ?bullet=N (or a #bullet-N fragment, which also scrolls
// to it) pins bullet N on load, so a link can point at one point of attention with its evidence shown.
(function () {
  "use strict";
  var bullets = Array.prototype.slice.call(document.querySelectorAll("li.bullet"));
  var pinned = null;

  function show(bullet) {
    var support = (bullet && bullet.getAttribute("data-support") || "").split(" ").filter(Boolean);
    document.querySelectorAll(".sentence.supporting").forEach(function (sentence) {
      sentence.classList.remove("supporting");
    });
    bullets.forEach(function (other) { other.classList.toggle("active", other === bullet); });
    support.forEach(function (index) {
      var sentence = document.getElementById("sentence-" + index);
      if (sentence) { sentence.classList.add("supporting"); }
    });
  }

  bullets.forEach(function (bullet) {
    bullet.addEventListener("mouseenter", function () { show(bullet); });
    bullet.addEventListener("focus", function () { show(bullet); });
    bullet.addEventListener("mouseleave", function () { show(pinned); });
    bullet.addEventListener("click", function () {
      pinned = pinned === bullet ? null : bullet;
      show(pinned || bullet);
    });
  });

  var fragment = /^#bullet-(\d+)$/.exec(window.location.hash);
  var query = /[?&]bullet=(\d+)(&|$)/.exec(window.location.search);
  var chosen = fragment ? fragment[1] : (query ? query[1] : null);
  if (chosen !== null) {
    pinned = document.getElementById("bullet-" + chosen);
    show(pinned);
  }
})();
