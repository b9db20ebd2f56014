// The portable viewer's map (data/viewer/ in a court bundle): points and world outline come from
// the bag's own script files (window.DALIL_POINTS, window.DALIL_WORLD); labels are text nodes.
"use strict";
(function () {
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var map = L.map(el, { worldCopyJump: true }).setView([30, 15], 3);
  if (window.DALIL_WORLD && typeof topojson !== "undefined") {
    var w = window.DALIL_WORLD;
    L.geoJSON(topojson.feature(w, w.objects.countries), {
      style: { color: "#8a94a6", weight: 1, fillColor: "#e9edf2", fillOpacity: 1 }, interactive: false
    }).addTo(map);
  }
  var pts = window.DALIL_POINTS || [];
  var bounds = [];
  pts.forEach(function (p) {
    var box = document.createElement("div");
    var head = document.createElement("div");
    head.textContent = p.kind + " · " + (p.exhibit || "") + (p.time ? " · " + p.time : "");
    box.appendChild(head);
    if (p.thumb) {
      var img = document.createElement("img");
      img.src = p.thumb;
      img.className = "popup-thumb";
      img.alt = "";
      box.appendChild(img);
    }
    var label = document.createElement("div");
    label.textContent = p.label || "";
    label.dir = "auto";
    box.appendChild(label);
    L.circleMarker([p.lat, p.lon], { radius: 7, color: "#b3261e", weight: 2, fillOpacity: 0.6 }).bindPopup(box).addTo(map);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length) { map.fitBounds(bounds, { maxZoom: 6, padding: [40, 40], animate: false }); }
  el.setAttribute("data-loaded", String(pts.length));
})();
