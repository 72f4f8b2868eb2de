/* Plain SVG charts for the dashboard (no library): horizontal bars with a reference
 * line (duration against norm) and a line over time (ratings). Labels are escaped. */

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/* data: [{label, value, title?}] (title: the bar's tooltip); opts.reference draws a
 * dashed line at that value; a bar over opts.over or under opts.under is coloured as
 * such (the caller passes the server's thresholds; without them no bar is marked). */
export function barChart(data, opts = {}) {
  const rowH = 24, left = 110, width = 640, right = 60;
  const max = Math.max(opts.reference || 0, ...data.map((d) => d.value)) * 1.1 || 1;
  const x = (v) => left + (v / max) * (width - left - right);
  const height = data.length * rowH + 24;
  const bars = data.map((d, i) => {
    const y = 8 + i * rowH;
    const over = opts.over != null && d.value > opts.over;
    const under = opts.under != null && d.value < opts.under;
    const colour = over ? "#b45309" : under ? "#b91c1c" : "#1d4ed8";
    return `<text x="${left - 6}" y="${y + 13}" text-anchor="end">${esc(d.label)}</text>
      <rect x="${left}" y="${y}" width="${Math.max(1, x(d.value) - left).toFixed(1)}" height="${rowH - 8}" fill="${colour}">
        <title>${esc(d.title || d.label)}: ${Math.round(d.value)}${esc(opts.unit || "")}</title></rect>
      <text x="${(x(d.value) + 4).toFixed(1)}" y="${y + 13}">${Math.round(d.value)}${esc(opts.unit || "")}</text>`;
  }).join("");
  const ref = opts.reference
    ? `<line x1="${x(opts.reference).toFixed(1)}" x2="${x(opts.reference).toFixed(1)}" y1="2" y2="${height - 14}"
        stroke="#15803d" stroke-dasharray="4 3"></line>
       <text x="${x(opts.reference).toFixed(1)}" y="${height - 2}" text-anchor="middle">норма</text>` : "";
  return `<svg class="chart" role="img" aria-label="Длительность к норме" width="${width}" height="${height}"
    viewBox="0 0 ${width} ${height}">${bars}${ref}</svg>`;
}

/* points: [{label, value}] in time order; opts.min/max fix the vertical scale. */
export function lineChart(points, opts = {}) {
  const width = 640, height = 220, pad = 32;
  const min = opts.min ?? Math.min(...points.map((p) => p.value));
  const max = opts.max ?? Math.max(...points.map((p) => p.value));
  const x = (i) => pad + (points.length > 1 ? (i / (points.length - 1)) * (width - 2 * pad) : (width - 2 * pad) / 2);
  const y = (v) => height - pad - ((v - min) / (max - min || 1)) * (height - 2 * pad);
  const grid = [];
  for (let v = Math.ceil(min); v <= max; v++)
    grid.push(`<line x1="${pad}" x2="${width - pad}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"></line>
      <text x="${pad - 8}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
  const path = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  const dots = points.map((p, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3" fill="#1d4ed8">
      <title>${esc(p.label)}: ${p.value.toFixed(2)}</title></circle>
      <text x="${x(i).toFixed(1)}" y="${height - 10}" text-anchor="middle">${esc(p.label)}</text>`).join("");
  return `<svg class="chart" role="img" aria-label="Оценки по дням" width="${width}" height="${height}"
    viewBox="0 0 ${width} ${height}">${grid.join("")}<path d="${path}" fill="none" stroke="#1d4ed8" stroke-width="2"></path>${dots}</svg>`;
}
