// The map page: Leaflet over the bundled world outline (or local --tiles), one circle per located
// item. Popups are built with DOM text nodes, never HTML strings: labels are suspect text.
"use strict";
(function () {
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var tiles = el.getAttribute("data-tiles");
  var map = L.map(el, { worldCopyJump: true, attributionControl: true }).setView([30, 15], 3);
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: parseInt(el.getAttribute("data-maxzoom") || "6", 10), attribution: "local tiles" }).addTo(map);
  } else {
    fetch(el.getAttribute("data-world"), { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (topo) {
      var world = topojson.feature(topo, topo.objects.countries);
      L.geoJSON(world, { style: { color: "#8a94a6", weight: 1, fillColor: "#e9edf2", fillOpacity: 1 }, interactive: false }).addTo(map);
      map.attributionControl.addAttribution("Natural Earth (public domain)");
    });
  }
  function popup(p) {
    var box = document.createElement("div");
    var kind = document.createElement("div");
    kind.className = "popup-kind";
    kind.textContent = p.kind + " · " + (p.exhibit || "") + (p.time ? " · " + p.time : "");
    box.appendChild(kind);
    if (p.thumb) {
      var img = document.createElement("img");
      img.src = p.thumb;
      img.className = "popup-thumb";
      img.alt = "";
      box.appendChild(img);
    }
    var a = document.createElement("a");
    a.href = p.href || "#";
    a.textContent = p.label || "(no label)";
    a.dir = "auto";
    box.appendChild(a);
    return box;
  }
  fetch(el.getAttribute("data-points"), { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
    var bounds = [];
    data.points.forEach(function (p) {
      var m = L.circleMarker([p.lat, p.lon], { radius: 7, color: "#b3261e", weight: 2, fillOpacity: 0.6 });
      m.bindPopup(popup(p));
      m.addTo(map);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length) { map.fitBounds(bounds, { maxZoom: 6, padding: [40, 40], animate: false }); }
    var count = document.getElementById("map-count");
    if (count) { count.textContent = data.points.length + " located item(s)"; }
    el.setAttribute("data-loaded", String(data.points.length));
  });
})();
