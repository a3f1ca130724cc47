// moonshift dashboard: small refinements; every page works without this file.
"use strict";
// A form with data-confirm asks before it is sent.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});

// A live part: replaced by each "progress" server-sent event. When the run's state changes
// (paused, resumed, ended) the page reloads, to show the buttons of the new state.
const live = document.querySelector("[data-live]");
const rates = [];
function drawRate() {
  const head = live.querySelector("[data-rate]");
  const line = document.querySelector("#rate-chart polyline");
  if (!head || !line) return;
  rates.push(Number(head.getAttribute("data-rate")) || 0);
  if (rates.length > 120) rates.shift();
  const top = Math.max(...rates, 1);
  const step = rates.length > 1 ? 300 / (rates.length - 1) : 0;
  line.setAttribute("points", rates.map((r, i) => `${(i * step).toFixed(1)},${(58 - (r / top) * 56).toFixed(1)}`).join(" "));
}
function stateOf(part) {
  const head = part.querySelector("[data-state]");
  return head ? head.getAttribute("data-state") : null;
}
if (live && window.EventSource) {
  const shown = stateOf(live);
  const source = new EventSource(live.getAttribute("data-live"));
  source.addEventListener("progress", (event) => {
    live.innerHTML = event.data;
    drawRate();
    if (stateOf(live) !== shown) {
      source.close();
      window.location.reload();
    }
  });
  source.addEventListener("end", () => source.close());
  drawRate();
}

// The dependency graph: zoom (buttons, wheel, + and -), move (drag, arrow keys), fit.
const graph = document.querySelector("svg[data-graph]");
if (graph) {
  let [x, y, w, h] = graph.getAttribute("viewBox").split(" ").map(Number);
  const show = () => graph.setAttribute("viewBox", `${x} ${y} ${w} ${h}`);
  const zoom = (factor, cx = x + w / 2, cy = y + h / 2) => {
    x = cx - (cx - x) * factor; y = cy - (cy - y) * factor; w *= factor; h *= factor; show();
  };
  const pointAt = (event) => {
    const point = graph.createSVGPoint();
    point.x = event.clientX; point.y = event.clientY;
    return point.matrixTransform(graph.getScreenCTM().inverse());
  };
  document.querySelectorAll("[data-zoom]").forEach((button) => button.addEventListener("click", () => {
    const how = button.getAttribute("data-zoom");
    if (how === "fit") { [x, y, w, h] = graph.getAttribute("data-full").split(" ").map(Number); show(); }
    else zoom(how === "in" ? 0.8 : 1.25);
  }));
  graph.addEventListener("wheel", (event) => {
    event.preventDefault();
    const p = pointAt(event);
    zoom(event.deltaY < 0 ? 0.85 : 1 / 0.85, p.x, p.y);
  }, { passive: false });
  let drag = null;
  graph.addEventListener("pointerdown", (event) => {
    if (event.target.closest("a")) return;
    drag = { cx: event.clientX, cy: event.clientY, x, y };
    graph.setPointerCapture(event.pointerId);
  });
  graph.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const scale = w / graph.clientWidth;
    x = drag.x - (event.clientX - drag.cx) * scale; y = drag.y - (event.clientY - drag.cy) * scale; show();
  });
  graph.addEventListener("pointerup", () => { drag = null; });
  document.addEventListener("keydown", (event) => {
    if (!graph.contains(document.activeElement) && document.activeElement !== document.body) return;
    const step = w / 10;
    const keys = { "+": () => zoom(0.8), "=": () => zoom(0.8), "-": () => zoom(1.25),
      ArrowLeft: () => { x -= step; show(); }, ArrowRight: () => { x += step; show(); },
      ArrowUp: () => { y -= step; show(); }, ArrowDown: () => { y += step; show(); } };
    if (keys[event.key] && !event.target.closest("input, select, textarea")) { keys[event.key](); event.preventDefault(); }
  });
  window.graphReady = performance.now();
}
