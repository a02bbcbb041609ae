// The features of an items or feature page on a MapLibre map (pan and zoom), drawn from
// the GeoJSON the page already holds: no tile, nothing from outside the service. A click
// on a feature opens it; attribute text only ever goes in as text.
(function () {
  "use strict";
  var holder = document.getElementById("map");
  var source = document.getElementById("features");
  var config = JSON.parse(document.getElementById("map-config").textContent);
  if (!holder || !source || typeof maplibregl === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var features = data.type === "FeatureCollection" ? data.features : [data];
  var bounds = null;
  function extend(c) {
    if (typeof c[0] === "number") {
      bounds = bounds ? bounds.extend(c) : new maplibregl.LngLatBounds(c, c);
    } else { c.forEach(extend); }
  }
  function walk(g) {
    if (!g) { return; }
    if (g.type === "GeometryCollection") { g.geometries.forEach(walk); } else { extend(g.coordinates); }
  }
  features.forEach(function (f) { walk(f.geometry); });
  holder.dataset.features = String(features.filter(function (f) { return f.geometry; }).length);
  var style = { version: 8, sources: {}, layers: [
    { id: "background", type: "background", paint: { "background-color": "#eef4f7" } }
  ] };
  if (config.basemap) {
    style.sources.basemap = { type: "raster", tiles: [config.basemap], tileSize: 256 };
    style.layers.push({ id: "basemap", type: "raster", source: "basemap" });
  }
  var map = new maplibregl.Map({ container: holder, style: style, attributionControl: false,
                                 center: [0, 0], zoom: 1 });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  window.pageMap = map;  // for the browser tests and the curious
  map.on("load", function () {
    map.addSource("page", { type: "geojson", data: { type: "FeatureCollection", features: features } });
    // A fill layer draws only polygons, a circle layer only points; a line layer both
    // lines and polygon outlines: no filter by geometry type is needed.
    map.addLayer({ id: "fill", type: "fill", source: "page",
                   paint: { "fill-color": "#00695c", "fill-opacity": 0.25 } });
    map.addLayer({ id: "outline", type: "line", source: "page",
                   paint: { "line-color": "#00695c", "line-width": 1.5 } });
    map.addLayer({ id: "points", type: "circle", source: "page",
                   paint: { "circle-color": "#00695c", "circle-radius": 5,
                            "circle-stroke-color": "#ffffff", "circle-stroke-width": 1 } });
    if (bounds) {
      // One point (or a straight line) has an extent of no size: centre it at a street zoom.
      map.fitBounds(bounds, { padding: 30, maxZoom: 15, duration: 0 });
    }
    map.once("idle", function () { holder.dataset.drawn = "true"; });
  });
  ["fill", "points", "outline"].forEach(function (layer) {
    map.on("mouseenter", layer, function () { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", layer, function () { map.getCanvas().style.cursor = ""; });
    map.on("click", layer, function (e) {
      var id = e.features[0].id;
      if (id === undefined || features.length === 1) { return; }
      window.location.href = config.root + "/collections/" + encodeURIComponent(config.collection) +
        "/items/" + encodeURIComponent(id) + "?f=html";
    });
  });
})();
