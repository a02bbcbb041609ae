// The web map. Layers are the collections the caller may see, drawn from the service's
// vector tiles with each collection's style, and rasters from its map tiles (PNG) with
// the legend of their colour ramp, under the vector layers. A key typed in the page stays in this tab's
// sessionStorage and travels only as an Authorization header (never in a URL). Canvas
// labels are not drawn (Arabic needs shaping MapLibre cannot do without its RTL plugin and
// Arabic glyphs): names are shown in HTML, where the browser shapes them. Data only ever
// reaches the page as text (textContent), never as markup.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var root = config.root, t = config.t;
  var KEY = "gis_key";
  var layers = {};  // collection id -> {info, styleLayers, filter, item}
  var order = [];

  function key() { return window.sessionStorage.getItem(KEY); }
  function authHeaders() { var k = key(); return k ? { Authorization: "Bearer " + k } : {}; }
  function ours(url) { return url.indexOf(root + "/") === 0; }
  function get(url) { return fetch(url, { headers: authHeaders() }); }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function titleOf(info) { return config.lang === "ar" && info.title_ar ? info.title_ar : info.title; }
  function tilejson(id, filter) {
    var url = root + "/collections/" + encodeURIComponent(id) + "/tiles/WebMercatorQuad/tilejson.json";
    return filter ? url + "?filter=" + encodeURIComponent(filter) : url;
  }

  var style = { version: 8, sources: {}, layers: [
    { id: "background", type: "background", paint: { "background-color": "#eef4f7" } }
  ] };
  if (config.basemap) {
    style.sources.basemap = { type: "raster", tiles: [config.basemap], tileSize: 256 };
    style.layers.push({ id: "basemap", type: "raster", source: "basemap" });
  }
  var container = document.getElementById("webmap");
  var map = new maplibregl.Map({
    container: container, style: style, center: [55.5, 25.3], zoom: 8, attributionControl: false,
    transformRequest: function (url) { return ours(url) ? { url: url, headers: authHeaders() } : { url: url }; }
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  window.gisMap = map;  // for the browser tests and the curious

  // The style's layers, or (no style served) one per geometry kind, in the service's colour.
  function fallbackStyle(id) {
    var c = "#00695c";
    return { layers: [
      { id: id + ":fill", type: "fill", paint: { "fill-color": c, "fill-opacity": 0.3 } },
      { id: id + ":line", type: "line", paint: { "line-color": c, "line-width": 1.2 } },
      { id: id + ":circle", type: "circle",
        paint: { "circle-color": c, "circle-radius": 4, "circle-stroke-color": "#fff", "circle-stroke-width": 1 } }
    ], metadata: { "gis-service:legend": [{ label: null, color: c, kind: "fill" }] } };
  }

  // The collection's default style (OGC API - Styles: its styles list names the default
  // and links each stylesheet), or the fallback where the collection offers none.
  function styleOf(info) {
    var fallback = fallbackStyle(info.id);
    var styles = (info.links || []).filter(function (l) { return /\/styles$/.test(l.rel); })[0];
    if (!styles) { return Promise.resolve(fallback); }
    return get(styles.href).then(function (r) { return r.ok ? r.json() : null; }).then(function (list) {
      var entries = (list && list.styles) || [];
      var chosen = entries.filter(function (e) { return e.id === list["default"]; })[0] || entries[0];
      var sheet = chosen && (chosen.links || []).filter(function (l) { return l.rel === "stylesheet"; })[0];
      if (!sheet) { return fallback; }
      return get(sheet.href).then(function (r) { return r.ok ? r.json() : fallback; });
    });
  }

  function addLayer(info, doc) {
    var id = info.id, source = "src:" + id, focus = config.focus || {};
    var filter = focus.layer === id && focus.filter ? focus.filter : null;
    var shown = !focus.layer || focus.layer === id;  // a layer asked for is shown alone
    map.addSource(source, { type: "vector", url: tilejson(id, filter) });
    var styleLayers = [];
    (doc.layers || []).forEach(function (l, i) {
      if (l.type === "symbol" || l.type === "background" || l.type === "raster") { return; }
      var copy = JSON.parse(JSON.stringify(l));
      copy.id = "lyr:" + id + ":" + i;
      copy.source = source;
      copy["source-layer"] = id;
      copy.layout = copy.layout || {};
      copy.layout.visibility = shown ? "visible" : "none";
      if (copy.type === "circle") {  // a cluster (low zooms) grows with its count
        var radius = (copy.paint || {})["circle-radius"];
        copy.paint = copy.paint || {};
        copy.paint["circle-radius"] = ["case", ["has", "count"],
          ["interpolate", ["linear"], ["get", "count"], 1, 4, 100, 9, 2000, 18], radius === undefined ? 4 : radius];
      }
      map.addLayer(copy);
      styleLayers.push({ id: copy.id, type: copy.type, paint: copy.paint || {} });
    });
    layers[id] = { info: info, styleLayers: styleLayers, filter: filter, shown: shown };
    order.push(id);
    panelItem(id, (doc.metadata || {})["gis-service:legend"] || []);
  }

  // A raster collection: its map tiles (the tileset's PNG template), magnified beyond its
  // native tile matrix, and its ramp's legend; a click reads its bands (raster-values).
  function mapTileset(info) {
    var url = root + "/collections/" + encodeURIComponent(info.id) + "/map/tiles/WebMercatorQuad";
    return get(url).then(function (r) { return r.ok ? r.json() : null; });
  }
  function addRaster(info, doc) {
    var id = info.id, source = "src:" + id, focus = config.focus || {};
    var shown = !focus.layer || focus.layer === id;
    var png = (doc.links || []).filter(function (l) { return l.rel === "item" && l.type === "image/png"; })[0];
    if (!png) { return; }
    var bbox = info.extent && info.extent.spatial && info.extent.spatial.bbox[0];
    var tiles = png.href.replace("{tileMatrix}", "{z}").replace("{tileRow}", "{y}").replace("{tileCol}", "{x}");
    var spec = { type: "raster", tiles: [tiles], tileSize: 256, maxzoom: +doc.layers[0].maxTileMatrix };
    if (bbox) { spec.bounds = bbox; }
    map.addSource(source, spec);
    var layerId = "lyr:" + id + ":raster";
    var firstVector = order.map(function (v) { return layers[v]; }).filter(function (l) { return !l.raster; })[0];
    var before = firstVector && firstVector.styleLayers[0] ? firstVector.styleLayers[0].id : undefined;
    map.addLayer({ id: layerId, type: "raster", source: source, paint: { "raster-opacity": 1 },
                   layout: { visibility: shown ? "visible" : "none" } }, before);
    layers[id] = { info: info, raster: doc.style || {}, shown: shown,
                   styleLayers: [{ id: layerId, type: "raster", paint: { "raster-opacity": 1 } }] };
    order.push(id);
    var unit = (doc.style || {}).unit ? " " + doc.style.unit : "";
    panelItem(id, ((doc.style || {}).legend || []).map(function (stop) {
      return { label: (+stop.value.toPrecision(4)) + unit, color: stop.color, kind: "fill" };
    }));
    layers[id].item.dataset.kind = "raster";
    layers[id].item.querySelector("form.filter").hidden = true;  // a CQL2 filter selects features
  }

  function panelItem(id, legend) {
    var layer = layers[id];
    var item = document.getElementById("layer-item").content.firstElementChild.cloneNode(true);
    item.dataset.collection = id;
    item.querySelector(".title").textContent = titleOf(layer.info);
    item.querySelector("input.visible").checked = layer.shown;
    var list = item.querySelector(".legend");
    legend.forEach(function (entry) {
      var li = el("li");
      var swatch = el("span", null, { "class": "swatch swatch-" + (entry.kind || "fill") });
      swatch.style.background = entry.color;
      li.appendChild(swatch);
      var label = config.lang === "ar" && entry.label_ar ? entry.label_ar : entry.label;
      li.appendChild(el("span", label || titleOf(layer.info), { dir: "auto" }));
      list.appendChild(li);
    });
    item.querySelector("input.visible").addEventListener("change", function (e) {
      layer.shown = e.target.checked;
      layer.styleLayers.forEach(function (l) {
        map.setLayoutProperty(l.id, "visibility", e.target.checked ? "visible" : "none");
      });
      updateDownloads();
    });
    item.querySelector("input.opacity").addEventListener("input", function (e) { setOpacity(layer, +e.target.value); });
    var form = item.querySelector("form.filter");
    var input = form.querySelector(".cql");
    input.value = layer.filter || "";
    form.addEventListener("submit", function (e) { e.preventDefault(); applyFilter(id, input.value.trim(), form); });
    form.querySelector(".clear").addEventListener("click", function () { input.value = ""; applyFilter(id, "", form); });
    item.querySelector(".zoom").addEventListener("click", function () { zoomTo(layer.info); });
    item.querySelector(".download-link").addEventListener("click", function (e) { download(e, this); });
    layer.item = item;
    document.getElementById("layers").appendChild(item);
  }

  var OPACITY = { fill: ["fill-opacity"], line: ["line-opacity"], circle: ["circle-opacity", "circle-stroke-opacity"],
                  raster: ["raster-opacity"] };
  function setOpacity(layer, value) {
    layer.styleLayers.forEach(function (l) {
      (OPACITY[l.type] || []).forEach(function (prop) {
        var base = typeof l.paint[prop] === "number" ? l.paint[prop] : 1;
        map.setPaintProperty(l.id, prop, base * value);
      });
    });
  }

  function applyFilter(id, text, form) {
    var error = form.querySelector(".error");
    error.hidden = true;
    var check = text ? get(root + "/collections/" + encodeURIComponent(id) + "/items?f=json&limit=1&filter=" +
                           encodeURIComponent(text)) : Promise.resolve({ ok: true });
    return check.then(function (res) {
      if (!res.ok) {
        return res.json().then(function (problem) {
          error.textContent = problem.detail || problem.title || String(res.status);
          error.hidden = false;
        });
      }
      layers[id].filter = text || null;
      map.getSource("src:" + id).setUrl(tilejson(id, text));
      layers[id].item.dataset.filter = text;
      updateDownloads();
    });
  }

  function zoomTo(info) {
    var bbox = info.extent && info.extent.spatial && info.extent.spatial.bbox[0];
    if (bbox) { map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: 20, maxZoom: 15, duration: 0 }); }
  }

  function downloadUrl(id) {
    var b = map.getBounds(), layer = layers[id];
    var box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); });
    if (layer.raster) {  // what the view shows of a raster: its coverage, as GeoTIFF
      return root + "/collections/" + encodeURIComponent(id) + "/coverage?f=tif&bbox=" + box.join(",");
    }
    var url = root + "/collections/" + encodeURIComponent(id) + "/items?f=" +
      encodeURIComponent(document.getElementById("format").value) + "&bbox=" + box.join(",");
    return layer.filter ? url + "&filter=" + encodeURIComponent(layer.filter) : url;
  }
  function updateDownloads() {
    order.forEach(function (id) { layers[id].item.querySelector(".download-link").href = downloadUrl(id); });
  }
  function download(event, link) {
    if (!key()) { return; }  // a plain link: public layers need no header
    event.preventDefault();  // a key must travel as a header, so fetch, then save
    get(link.href).then(function (res) {
      if (!res.ok) { throw new Error(String(res.status)); }
      var name = (res.headers.get("content-disposition") || "").match(/filename="([^"]+)"/);
      return res.blob().then(function (blob) {
        var a = el("a", null, { href: URL.createObjectURL(blob), download: name ? name[1] : "download" });
        document.body.appendChild(a); a.click(); a.remove();
      });
    });
  }
  map.on("moveend", updateDownloads);
  document.getElementById("format").addEventListener("change", updateDownloads);

  // A click: the features under it, in HTML (names shaped by the browser), full attributes fetched.
  map.on("click", function (e) {
    var ids = [];
    order.forEach(function (id) {
      if (!layers[id].raster) { layers[id].styleLayers.forEach(function (l) { ids.push(l.id); }); }
    });
    var hits = ids.length ? map.queryRenderedFeatures(e.point, { layers: ids }) : [];
    var picked = document.getElementById("picked");
    picked.replaceChildren();
    if (!hits.length) { rasterValues(e.lngLat, picked); return; }
    var hit = hits[0], id = hit.layer.id.split(":")[1];
    var box = el("div", null, { "class": "feature-card" });
    var heading = el("h3", null, { "data-id": String(hit.id) });
    heading.appendChild(el("bdi", titleOf(layers[id].info)));
    heading.appendChild(document.createTextNode(" · " + hit.id));
    box.appendChild(heading);
    picked.appendChild(box);
    var props = hit.properties || {};
    if (Object.keys(props).length === 1 && props.count !== undefined) {
      box.appendChild(el("p", props.count + " " + t.count));
      return;
    }
    box.appendChild(table(props));
    get(root + "/collections/" + encodeURIComponent(id) + "/items/" + encodeURIComponent(hit.id) + "?f=json")
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (feature) {
        if (!feature) { return; }
        box.replaceChild(table(feature.properties || {}), box.querySelector("table"));
        var link = el("a", t.open_feature, { href: root + "/collections/" + encodeURIComponent(id) + "/items/" +
          encodeURIComponent(hit.id) + "?f=html" });
        box.appendChild(link);
      });
  });
  // The bands of every shown raster at the clicked point (the raster-values process).
  function rasterValues(at, picked) {
    order.filter(function (id) { return layers[id].raster && layers[id].shown; }).forEach(function (id) {
      var body = { inputs: { raster: { collection: id }, points: { type: "Point", coordinates: [at.lng, at.lat] } } };
      var headers = authHeaders();
      headers["Content-Type"] = "application/json";
      fetch(root + "/processes/raster-values/execution", { method: "POST", headers: headers, body: JSON.stringify(body) })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (doc) {
          var feature = doc && doc.features && doc.features[0];
          if (!feature) { return; }
          var values = {};
          (doc.bands || []).forEach(function (band) { values[band] = feature.properties[band]; });
          var box = el("div", null, { "class": "feature-card", "data-raster": id });
          box.appendChild(el("h3")).appendChild(el("bdi", titleOf(layers[id].info)));
          box.appendChild(table(values));
          picked.appendChild(box);
        });
    });
  }

  function table(props) {
    var tbl = el("table"), body = el("tbody");
    Object.keys(props).forEach(function (name) {
      if (props[name] === null || props[name] === undefined) { return; }
      var tr = el("tr");
      tr.appendChild(el("th", name, { dir: "auto" }));
      tr.appendChild(el("td", props[name], { dir: "auto", "data-property": name }));
      body.appendChild(tr);
    });
    tbl.appendChild(body);
    return tbl;
  }

  function clearLayers() {
    order.forEach(function (id) {
      layers[id].styleLayers.forEach(function (l) { map.removeLayer(l.id); });  // a raster's too
      map.removeSource("src:" + id);
      layers[id].item.remove();
    });
    layers = {}; order = [];
    document.getElementById("picked").replaceChildren();
  }

  function loadLayers() {
    clearLayers();
    var status = document.getElementById("auth-status");
    return get(root + "/collections?f=json").then(function (res) {
      if (res.status === 401) {
        window.sessionStorage.removeItem(KEY);
        status.textContent = t.bad_key;
        signedIn(false);
        return loadLayers();
      }
      return res.json().then(function (doc) {
        // rasters (kind "coverage") from their map tiles, first: they lie under the vectors
        var all = doc.collections || [];
        var rasters = all.filter(function (c) { return c.kind === "coverage"; });
        var infos = all.filter(function (c) { return c.kind !== "coverage"; });
        document.getElementById("no-layers").hidden = all.length > 0;
        var tilesets = Promise.all(rasters.map(function (info) {
          return mapTileset(info).catch(function () { return null; }).then(function (doc) { return [info, doc]; });
        }));
        return Promise.all([tilesets, Promise.all(infos.map(function (info) {
          return styleOf(info)
            .catch(function () { return fallbackStyle(info.id); })
            .then(function (doc) { return [info, doc]; });
        }))]).then(function (both) {
          both[0].forEach(function (p) { if (p[1]) { addRaster(p[0], p[1]); } });
          both[1].forEach(function (p) { addLayer(p[0], p[1]); });
          var focus = config.focus || {};
          if (focus.layer && layers[focus.layer]) { zoomTo(layers[focus.layer].info); }
          updateDownloads();
          container.dataset.layers = order.join(",");
        });
      });
    });
  }

  function signedIn(yes) {
    document.getElementById("sign-out").hidden = !yes;
    document.getElementById("key").value = "";
  }
  document.getElementById("sign-in").addEventListener("submit", function (e) {
    e.preventDefault();
    var value = document.getElementById("key").value.trim();
    if (!value) { return; }
    window.sessionStorage.setItem(KEY, value.replace(/^Bearer\s+/i, ""));
    document.getElementById("auth-status").textContent = t.signed_in;
    signedIn(true);
    loadLayers();
  });
  document.getElementById("sign-out").addEventListener("click", function () {
    window.sessionStorage.removeItem(KEY);
    document.getElementById("auth-status").textContent = "";
    signedIn(false);
    loadLayers();
  });
  if (key()) { signedIn(true); document.getElementById("auth-status").textContent = t.signed_in; }
  map.on("load", loadLayers);
})();
