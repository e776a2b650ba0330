// Jamey status page. Live over Server-Sent Events (api/events): one `snapshot` event on
// connect and one per telemetry polling round. Everything from the data is rendered with
// textContent, never as HTML, so a service name or detail cannot inject markup.
import uPlot from './vendor/uplot.esm.js';

const STATUS_TEXT = {
  SERVING: { word: 'Healthy', symbol: '✓' },
  DEGRADED: { word: 'Degraded', symbol: '!' },
  DOWN: { word: 'Down', symbol: '✕' },
};

// Distinct colours and dash patterns, so lines differ by more than colour.
const COLOURS = ['#0969da', '#bc4c00', '#1a7f37', '#8250df', '#bf3989', '#4d2d00', '#0550ae', '#6e7781'];
const DASHES = [[], [6, 3], [2, 2], [10, 3, 2, 3], [4, 4], [1, 3]];

const CHARTS = {
  requestRate: { format: (v) => `${round(v, 2)} req/s`, axis: (v) => String(round(v, 2)) },
  errorRate: { format: (v) => `${round(v * 100, 1)} %`, axis: (v) => `${round(v * 100, 1)}%` },
  p99Latency: { format: (v) => `${round(v * 1000, 1)} ms`, axis: (v) => String(round(v * 1000, 1)) },
  phi: { format: (v) => `${round(v, 3)} bits`, axis: (v) => String(round(v, 3)) },
};

const plots = new Map();
// Every chart's time axis spans the snapshot's window, in Unix seconds, even with few samples.
let timeRange = [0, 1];

function round(value, digits) {
  return Number(value.toFixed(digits)).toString();
}

/** Creates an element with attributes and text or child nodes. Text is always textContent. */
function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  for (const child of children) node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

function statusOf(value) {
  return STATUS_TEXT[value] ?? { word: String(value), symbol: '?' };
}

function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : 'never';
}

function renderOverall(snapshot) {
  const overall = document.getElementById('overall');
  const polled = snapshot.services.filter((s) => s.service !== 'telemetry');
  const notServing = polled.filter((s) => s.status !== 'SERVING').map((s) => s.service);
  const { word, symbol } = statusOf(snapshot.status);
  overall.dataset.status = snapshot.status;
  const text =
    notServing.length === 0
      ? `${symbol} ${word}: all ${polled.length} services are serving.`
      : `${symbol} ${word}: ${notServing.length} of ${polled.length} services not serving (${notServing.join(', ')}).`;
  // A live region: screen readers announce changes, so write it only when it says something new.
  if (overall.textContent !== text) overall.textContent = text;
}

function renderDependencies(dependencies) {
  if (dependencies.length === 0) return h('span', { class: 'empty' }, 'none reported');
  return h(
    'ul',
    { class: 'deps' },
    ...dependencies.map((d) =>
      h('li', { 'data-dependency': d.name, 'data-level': d.level, 'data-circuit': d.circuit }, `${d.name}: ${d.level}, breaker ${d.circuit}`),
    ),
  );
}

function renderServices(snapshot) {
  const rows = snapshot.services.map((s) => {
    const { word, symbol } = statusOf(s.status);
    return h(
      'tr',
      { 'data-service': s.service, 'data-status': s.status },
      h('th', { scope: 'row' }, s.service),
      h('td', {}, h('span', { class: 'badge' }, `${symbol} ${word}`)),
      h('td', { class: 'detail' }, s.detail || (s.status === 'SERVING' ? 'ready' : '')),
      h('td', {}, renderDependencies(s.dependencies)),
      h('td', {}, s.checkedAt ? `${time(s.checkedAt)} (${round(s.latencyMs, 0)} ms)` : 'not checked yet'),
    );
  });
  document.querySelector('#services tbody').replaceChildren(...rows);
}

function renderAlerts(snapshot) {
  const items = snapshot.alerts.map((a) =>
    h(
      'li',
      { 'data-rule': a.rule, 'data-service': a.service, 'data-severity': a.severity },
      h('span', { class: 'severity' }, a.severity),
      h('strong', {}, a.rule),
      ` on ${a.service}: ${a.summary} `,
      h('span', { class: 'note' }, `(firing since ${time(a.since)})`),
    ),
  );
  document.getElementById('alerts').replaceChildren(...items);
  const empty = document.getElementById('alerts-empty');
  empty.hidden = items.length > 0;
}

function plotWidth(container) {
  return Math.max(240, Math.floor(container.clientWidth));
}

function renderChart(id, chart) {
  const figure = document.getElementById(`chart-${id}`);
  const container = figure.querySelector('.plot');
  const latest = figure.querySelector('.latest');
  const { format, axis } = CHARTS[id];
  const labels = chart.series.map((s) => s.label);
  const key = labels.join('\u0000');
  let entry = plots.get(id);

  if (chart.times.length === 0 || labels.length === 0) {
    entry?.plot.destroy();
    plots.delete(id);
    container.replaceChildren(h('p', { class: 'empty' }, 'No data yet.'));
    latest.textContent = '';
    return;
  }
  const data = [chart.times, ...chart.series.map((s) => s.values)];
  if (!entry || entry.key !== key) {
    entry?.plot.destroy();
    container.replaceChildren();
    const plot = new uPlot(
      {
        width: plotWidth(container),
        height: 220,
        scales: { x: { time: true, range: () => timeRange } },
        series: [
          {},
          ...labels.map((label, i) => ({
            label,
            stroke: COLOURS[i % COLOURS.length],
            dash: DASHES[i % DASHES.length],
            width: 2,
            // History has one point per interval (a minute by default): always mark each one.
            points: { show: true, size: 5 },
            spanGaps: true,
            value: (_u, v) => (v == null ? '–' : format(v)),
          })),
        ],
        axes: [{}, { size: 56, values: (_u, splits) => splits.map(axis) }],
      },
      data,
      container,
    );
    entry = { plot, key };
    plots.set(id, entry);
  } else {
    entry.plot.setData(data);
  }
  // A text summary of the newest values, for screen readers and for anyone who cannot read a chart.
  const newest = chart.series.map((s) => {
    const value = [...s.values].reverse().find((v) => v != null);
    return `${s.label} ${value == null ? 'no data' : format(value)}`;
  });
  latest.textContent = `Latest: ${newest.join('; ')}.`;
}

function render(snapshot) {
  const end = Date.parse(snapshot.generatedAt) / 1000;
  timeRange = [end - snapshot.windowMs / 1000, end];
  renderOverall(snapshot);
  renderServices(snapshot);
  renderAlerts(snapshot);
  for (const id of Object.keys(CHARTS)) renderChart(id, snapshot.charts[id]);
  document.getElementById('charts-window').textContent = `The last ${Math.round(snapshot.windowMs / 60000)} minutes.`;
  document.getElementById('problem').hidden = true;
  const connection = document.getElementById('connection');
  connection.dataset.state = 'live';
  connection.textContent = `Live: updated at ${time(snapshot.generatedAt)}.`;
}

function showProblem(message) {
  const problem = document.getElementById('problem');
  problem.textContent = message;
  problem.hidden = false;
}

function connect() {
  const events = new EventSource('api/events');
  const connection = document.getElementById('connection');
  events.addEventListener('snapshot', (event) => {
    try {
      render(JSON.parse(event.data));
    } catch (error) {
      showProblem(`Could not show the latest status: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  events.addEventListener('unavailable', (event) => {
    let message = 'Telemetry could not read the current status.';
    try {
      message = JSON.parse(event.data).message ?? message;
    } catch {
      // Keep the generic message.
    }
    showProblem(message);
  });
  events.addEventListener('error', () => {
    // EventSource reconnects by itself (after the server's retry delay).
    connection.dataset.state = 'reconnecting';
    connection.textContent = 'Connection to telemetry lost: reconnecting…';
  });
}

let resizing = false;
window.addEventListener('resize', () => {
  if (resizing) return;
  resizing = true;
  requestAnimationFrame(() => {
    resizing = false;
    for (const [id, { plot }] of plots) {
      const container = document.getElementById(`chart-${id}`).querySelector('.plot');
      plot.setSize({ width: plotWidth(container), height: 220 });
    }
  });
});

connect();
