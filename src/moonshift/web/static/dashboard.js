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
