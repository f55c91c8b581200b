/* 统计报表 charts (reports app, docs/reports.md): plain SVG horizontal bar charts, no
 * library, no network. Each <div class="reports-chart" data-chart-source="ID"> is drawn
 * from the JSON of <script id="ID" type="application/json"> (Django json_script):
 *   {unit, labels: [..], groups?: [..], stacked?: bool,
 *    series: [{name, values: ["12.50" | null, ..]}],
 *    markers?: [{name, values: [..]}]}   (targets drawn as ticks across each bar row)
 * Values are decimal strings; they size the bars, and are shown as every page shows
 * numbers: amounts (unit 元) as 1,234.56, counts (件) grouped, other units as sent. The
 * plot leaves room on its right for the longest value text, so no label is clipped. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = ["#417690", "#e0a040", "#6a9f58", "#b05050", "#7d6ab0"];
  var MARKER_COLORS = ["#c0392b", "#8e44ad", "#16a085"];
  var ROW = 24, LABEL_W = 260, TOP = 30, RIGHT = 90, GROUP_ROW = 20;

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function num(v) { return v === null || v === undefined ? null : parseFloat(v); }

  var MONEY = new Intl.NumberFormat("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  var COUNT = new Intl.NumberFormat("zh-CN", {maximumFractionDigits: 0});

  /* A value as text: 元 → 1,234.56; 件 → 1,234; anything else as the server sent it. */
  function shown(raw, unit) {
    var v = num(raw);
    if (v === null || isNaN(v)) { return raw === null || raw === undefined ? "—" : String(raw); }
    if (unit === "元") { return MONEY.format(v); }
    if (unit === "件") { return COUNT.format(v); }
    return String(raw);
  }

  /* The widths of value texts as the chart draws them (its CSS: .reports-svg .reports-value),
   * measured in a hidden SVG in the container; 7px a character where nothing is laid out. */
  function textWidths(texts, container) {
    var probe = el("svg", {"class": "reports-svg", width: 1, height: 1,
                           style: "position:absolute;visibility:hidden"});
    container.appendChild(probe);
    var widths = texts.map(function (t) {
      var node = el("text", {"class": "reports-value"}, t);
      probe.appendChild(node);
      var w = node.getComputedTextLength ? node.getComputedTextLength() : 0;
      return w > 0 ? w : t.length * 7;
    });
    container.removeChild(probe);
    return widths;
  }

  function draw(container, data) {
    var labels = data.labels || [];
    var series = data.series || [];
    var markers = data.markers || [];
    var stacked = !!data.stacked;
    if (!labels.length) { container.textContent = "暂无数据"; return; }

    var max = 0;
    labels.forEach(function (_, i) {
      var total = 0;
      series.forEach(function (s) {
        var v = num(s.values[i]) || 0;
        total = stacked ? total + v : Math.max(total, v);
      });
      markers.forEach(function (m) { total = Math.max(total, num(m.values[i]) || 0); });
      max = Math.max(max, total);
    });
    if (max <= 0) { max = 1; }

    var unit = data.unit;
    var valueTexts = labels.map(function (_, i) {
      var texts = series.map(function (s) { return shown(s.values[i], unit); });
      return stacked ? [texts.join(" + ")] : texts;
    });
    var longest = Math.max.apply(null, [0].concat(  // the widest value text, drawn right of its bar
      textWidths([].concat.apply([], valueTexts), container)));
    var width = Math.max(container.clientWidth || 0, 640);
    var plotW = Math.max(width - LABEL_W - Math.max(RIGHT, longest + 24), 80);
    var barsPerRow = stacked ? 1 : series.length;
    var rowH = Math.max(ROW, barsPerRow * 14 + 8);
    var groups = data.groups || null;
    var y = TOP, positions = [], previous = null;
    labels.forEach(function (_, i) {
      if (groups && groups[i] !== previous) { positions.push({group: groups[i], y: y}); y += GROUP_ROW; previous = groups[i]; }
      positions.push({index: i, y: y}); y += rowH;
    });
    var height = y + 24;
    var svg = el("svg", {width: width, height: height, viewBox: "0 0 " + width + " " + height,
                         role: "img", "class": "reports-svg"});
    svg.appendChild(el("title", {}, container.getAttribute("data-title") || "图表"));

    // legend
    var lx = LABEL_W;
    series.forEach(function (s, k) {
      svg.appendChild(el("rect", {x: lx, y: 8, width: 12, height: 12, fill: COLORS[k % COLORS.length]}));
      svg.appendChild(el("text", {x: lx + 16, y: 18, "class": "reports-legend"}, s.name));
      lx += 24 + s.name.length * 14;
    });
    markers.forEach(function (m, k) {
      svg.appendChild(el("line", {x1: lx, y1: 6, x2: lx, y2: 22, stroke: MARKER_COLORS[k % MARKER_COLORS.length], "stroke-width": 3}));
      svg.appendChild(el("text", {x: lx + 6, y: 18, "class": "reports-legend"}, m.name));
      lx += 20 + m.name.length * 14;
    });
    if (data.unit) { svg.appendChild(el("text", {x: width - RIGHT + 4, y: 18, "class": "reports-legend"}, "单位：" + data.unit)); }

    // axis: 0, half, max
    [0, 0.5, 1].forEach(function (f) {
      var x = LABEL_W + plotW * f;
      svg.appendChild(el("line", {x1: x, y1: TOP - 4, x2: x, y2: height - 20, stroke: "#ddd"}));
      svg.appendChild(el("text", {x: x, y: height - 6, "text-anchor": "middle", "class": "reports-axis"},
                         (max * f).toLocaleString("zh-CN", {maximumFractionDigits: 2})));
    });

    positions.forEach(function (p) {
      if (p.group !== undefined) {
        svg.appendChild(el("text", {x: 4, y: p.y + 14, "class": "reports-group"}, p.group));
        return;
      }
      var i = p.index;
      svg.appendChild(el("text", {x: LABEL_W - 8, y: p.y + rowH / 2 + 4, "text-anchor": "end",
                                  "class": "reports-label"}, labels[i]));
      var offset = LABEL_W, texts = [];
      series.forEach(function (s, k) {
        var raw = s.values[i], v = num(raw);
        var barY = stacked ? p.y + 4 : p.y + 4 + k * 14;
        var barH = stacked ? rowH - 8 : 12;
        if (v === null) {
          svg.appendChild(el("text", {x: LABEL_W + 4, y: barY + barH - 2, "class": "reports-value"}, "—"));
          return;
        }
        var w = plotW * v / max;
        var x = stacked ? offset : LABEL_W;
        var bar = el("rect", {x: x, y: barY, width: Math.max(w, v > 0 ? 1 : 0), height: barH,
                              fill: COLORS[k % COLORS.length], "class": "reports-bar"});
        bar.appendChild(el("title", {}, labels[i] + " · " + s.name + "：" + shown(raw, unit)));
        svg.appendChild(bar);
        if (stacked) { offset += w; texts.push(shown(raw, unit)); }
        else {
          svg.appendChild(el("text", {x: x + w + 4, y: barY + barH - 2, "class": "reports-value"}, shown(raw, unit)));
        }
      });
      if (stacked && texts.length) {
        svg.appendChild(el("text", {x: offset + 4, y: p.y + rowH / 2 + 4, "class": "reports-value"}, texts.join(" + ")));
      }
      markers.forEach(function (m, k) {
        var v = num(m.values[i]);
        if (v === null) { return; }
        var x = LABEL_W + plotW * v / max;
        var tick = el("line", {x1: x, y1: p.y + 1, x2: x, y2: p.y + rowH - 1,
                               stroke: MARKER_COLORS[k % MARKER_COLORS.length], "stroke-width": 3,
                               "class": "reports-marker"});
        tick.appendChild(el("title", {}, m.name + "：" + shown(m.values[i], unit)));
        svg.appendChild(tick);
      });
    });
    container.textContent = "";
    container.appendChild(svg);
  }

  function init() {
    var nodes = document.querySelectorAll(".reports-chart[data-chart-source]");
    Array.prototype.forEach.call(nodes, function (container) {
      var source = document.getElementById(container.getAttribute("data-chart-source"));
      if (!source) { return; }
      try { draw(container, JSON.parse(source.textContent)); }
      catch (err) { container.textContent = "图表无法显示：" + err.message; }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
}());
