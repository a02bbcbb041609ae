// Draws the page's GeoJSON as SVG, fitted to its extent; no tiles, no external library,
// so the page works on a closed network.
(function () {
  "use strict";
  var holder = document.getElementById("map");
  var source = document.getElementById("features");
  if (!holder || !source) { return; }
  var data = JSON.parse(source.textContent);
  var features = data.type === "FeatureCollection" ? data.features : [data];
  var rings = [];
  function walk(geom, feature) {
    if (!geom) { return; }
    var t = geom.type, c = geom.coordinates;
    if (t === "Point") { rings.push({kind: "point", coords: [c], f: feature}); }
    else if (t === "MultiPoint") { c.forEach(function (p) { rings.push({kind: "point", coords: [p], f: feature}); }); }
    else if (t === "LineString") { rings.push({kind: "line", coords: c, f: feature}); }
    else if (t === "MultiLineString") { c.forEach(function (l) { rings.push({kind: "line", coords: l, f: feature}); }); }
    else if (t === "Polygon") { rings.push({kind: "polygon", coords: c, f: feature}); }
    else if (t === "MultiPolygon") { c.forEach(function (p) { rings.push({kind: "polygon", coords: p, f: feature}); }); }
    else if (t === "GeometryCollection") { geom.geometries.forEach(function (g) { walk(g, feature); }); }
  }
  features.forEach(function (f) { walk(f.geometry, f); });
  if (!rings.length) { holder.textContent = "No geometry to show."; return; }
  var minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
  function extend(p) { minx = Math.min(minx, p[0]); maxx = Math.max(maxx, p[0]); miny = Math.min(miny, p[1]); maxy = Math.max(maxy, p[1]); }
  rings.forEach(function (r) { (r.kind === "polygon" ? r.coords.flat() : r.coords).forEach(extend); });
  var w = holder.clientWidth || 800, h = holder.clientHeight || 360, pad = 12;
  var kx = Math.cos(((miny + maxy) / 2) * Math.PI / 180) || 1;
  // Fitted about the extent's centre: a side of zero length (one point, a horizontal or
  // vertical line) leaves the scale to the other side, or to 1 when both are zero, and
  // what was drawn stays mid-map instead of on an edge.
  var spanx = (maxx - minx) * kx, spany = maxy - miny;
  var cx = (minx + maxx) / 2, cy = (miny + maxy) / 2;
  var scale = Math.min(
    spanx > 0 ? (w - 2 * pad) / spanx : Infinity,
    spany > 0 ? (h - 2 * pad) / spany : Infinity
  );
  if (!isFinite(scale)) { scale = 1; }
  function xy(p) {
    var x = w / 2 + (p[0] - cx) * kx * scale;
    var y = h / 2 - (p[1] - cy) * scale;
    return x.toFixed(1) + "," + y.toFixed(1);
  }
  var ns = "http://www.w3.org/2000/svg";
  var svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  rings.forEach(function (r) {
    var el;
    if (r.kind === "point") {
      el = document.createElementNS(ns, "circle");
      var p = xy(r.coords[0]).split(",");
      el.setAttribute("cx", p[0]); el.setAttribute("cy", p[1]); el.setAttribute("r", 4);
    } else if (r.kind === "line") {
      el = document.createElementNS(ns, "polyline");
      el.setAttribute("points", r.coords.map(xy).join(" "));
    } else {
      el = document.createElementNS(ns, "path");
      el.setAttribute("d", r.coords.map(function (ring) { return "M" + ring.map(xy).join("L") + "Z"; }).join(""));
      el.setAttribute("fill-rule", "evenodd");
    }
    el.setAttribute("class", "feature");
    var title = document.createElementNS(ns, "title");
    title.textContent = "feature " + r.f.id;
    el.appendChild(title);
    svg.appendChild(el);
  });
  holder.appendChild(svg);
})();
