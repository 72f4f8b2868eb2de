/* The figures pages: workers (a table per worker with compliance, and the chart of
 * duration against norm per service) and ratings (mean rating per day, low ratings).
 * The numbers come from GET /api/v1/figures, computed by the server over the visits
 * with their corrections applied; only where that route is missing (404) are they
 * estimated here from the visit list, and the page says so. */
import { barChart, lineChart } from "./charts.js";
import {
  REASON_NAMES, allVisits, api, dateTime, errorBox, esc, monthName, monthParam, monthRange, monthStart, nodata,
  percent, short, who,
} from "./util.js";

/* {items} from the figures route, {missing} when this server has none, or {error}. */
async function figures(group, from, to) {
  const r = await api(`/api/v1/figures?${new URLSearchParams({ group, from, to })}`);
  if (r.data) return { items: r.data.items || [] };
  return r;
}

const fallbackNote = '<p class="muted fallback">Показатели оценены по списку посещений: сводка сервера недоступна.</p>';

/* ==== Workers ==== */

function workersFromVisits(items) {
  const byWorker = new Map();
  for (const v of items) {
    const f = byWorker.get(v.worker_id) || { worker_id: v.worker_id, worker_name: v.worker_name, visits: 0, ended: 0,
      ratioSum: 0, ratioN: 0, early: 0, over: 0, ratingSum: 0, ratingN: 0, low: 0, cancelled: 0, attempts: 0 };
    f.visits++;
    if (v.state === "cancelled") f.cancelled++;
    if (v.state === "attempted") f.attempts++;
    if (v.state === "ended" || v.state === "rated") f.ended++;
    if (v.duration_s != null && v.expected_minutes) { f.ratioSum += v.duration_s / 60 / v.expected_minutes; f.ratioN++; }
    if (v.flags?.includes("early_leave")) f.early++;
    if (v.flags?.includes("overtime")) f.over++;
    if (v.rating) { f.ratingSum += v.rating; f.ratingN++; if (v.rating <= 2) f.low++; }
    byWorker.set(v.worker_id, f);
  }
  return [...byWorker.values()].map((f) => ({ worker_id: f.worker_id, worker_name: f.worker_name, visits: f.visits,
    ended: f.ended, mean_duration_ratio: f.ratioN ? f.ratioSum / f.ratioN : null,
    early_leave_share: f.ended ? f.early / f.ended : null, overtime_share: f.ended ? f.over / f.ended : null,
    mean_rating: f.ratingN ? f.ratingSum / f.ratingN : null, low_ratings: f.low, cancelled: f.cancelled,
    attempts: f.attempts, compliance: null }));
}

/* cancellations_by_reason / attempts_by_reason: {reason: n} or [{reason, count}]. */
function byReason(value) {
  if (!value) return [];
  if (Array.isArray(value)) return value.map((x) => [x.reason, Number(x.count ?? x.n ?? 0)]);
  return Object.entries(value).map(([k, n]) => [k, Number(n)]);
}

function reasonTable(items) {
  const sums = new Map();
  for (const f of items)
    for (const [kind, key] of [["cancel", "cancellations_by_reason"], ["attempt", "attempts_by_reason"]])
      for (const [reason, n] of byReason(f[key])) {
        const e = sums.get(reason) || { cancel: 0, attempt: 0 };
        e[kind] += n;
        sums.set(reason, e);
      }
  if (!sums.size) return "";
  return `<h2>Отмены и попытки по причинам</h2><table id="reasons"><thead><tr><th>Причина</th><th class="num">Отмены</th>
    <th class="num">Попытки у двери</th></tr></thead><tbody>${[...sums].map(([r, e]) => `<tr><td>${esc(REASON_NAMES[r] || r)}</td>
    <td class="num">${e.cancel}</td><td class="num">${e.attempt}</td></tr>`).join("")}</tbody></table>`;
}

const workerRow = (f) => `<tr data-worker="${esc(f.worker_id)}"><td>${esc(f.worker_name || short(f.worker_id))}</td>
  <td class="num">${esc(f.visits ?? "—")}</td><td class="num">${esc(f.ended ?? "—")}</td>
  <td class="num">${percent(f.mean_duration_ratio)}</td><td class="num">${percent(f.early_leave_share)}</td>
  <td class="num">${percent(f.overtime_share)}</td>
  <td class="num">${f.mean_rating != null ? Number(f.mean_rating).toFixed(1).replace(".", ",") : "—"}</td>
  <td class="num">${esc(f.low_ratings ?? "—")}</td><td class="num">${esc(f.cancelled ?? "—")}</td>
  <td class="num">${esc(f.attempts ?? "—")}</td><td class="num compliance">${percent(f.compliance)}</td></tr>`;

export async function pageWorkers(params) {
  const month = monthParam(params);
  const { from, to } = monthRange(month);
  const head = `<h1>Сотрудники — ${esc(monthName(month))}</h1>
    <form class="filters" id="figures-month"><label>Месяц<input type="month" name="month" value="${esc(month)}"></label>
    <button type="submit">Показать</button></form>`;
  let r = await figures("worker", from, to), note = "";
  if (r.missing) {
    const visits = await allVisits({ from, to });
    r = visits.error ? visits : { items: workersFromVisits(visits.items) };
    note = `${fallbackNote}<p class="muted">Соблюдение норм — нет данных.</p>`;
  }
  if (r.error) return head + errorBox(r.error);
  const table = r.items.length ? `<table id="workers"><thead><tr><th>Сотрудник</th><th class="num">Визиты</th>
    <th class="num">Завершено</th><th class="num">Длительность к норме</th><th class="num">Ранние уходы</th>
    <th class="num">Сверх нормы</th><th class="num">Средняя оценка</th><th class="num">Низкие оценки</th>
    <th class="num">Отмены</th><th class="num">Попытки</th><th class="num">Соблюдение</th></tr></thead>
    <tbody>${r.items.map(workerRow).join("")}</tbody></table>` : nodata("за этот месяц визитов нет");
  return `${head}${table}${note}${reasonTable(r.items)}${await serviceChart(from, to)}`;
}

/* Duration against norm per service, 100 % = the norm. From the server: its mean of
 * duration / expected per service; estimated: over the visits that include it. */
async function serviceChart(from, to) {
  const title = "<h2>Длительность к норме по услугам, %</h2>";
  const r = await figures("service", from, to);
  let data, note = "";
  if (r.items) {
    data = r.items.filter((f) => f.mean_duration_ratio != null).map((f) => ({
      label: f.service_code, title: `${f.service_name || f.service_code}${f.norm_minutes ? `, норма ${f.norm_minutes} мин` : ""}`,
      value: Number(f.mean_duration_ratio) * 100 }));
  } else if (r.missing) {
    const visits = await allVisits({ from, to });
    if (visits.error) return title + errorBox(visits.error);
    const byService = new Map();
    for (const v of visits.items) {
      if (v.duration_s == null || !v.expected_minutes) continue;
      for (const s of v.services || []) {
        const e = byService.get(s.code) || { sum: 0, n: 0 };
        e.sum += v.duration_s / 60 / v.expected_minutes;
        e.n++;
        byService.set(s.code, e);
      }
    }
    data = [...byService].map(([code, e]) => ({ label: code, value: (e.sum / e.n) * 100 }));
    note = fallbackNote;
  } else {
    return title + errorBox(r.error);
  }
  return title + (data.length ? `<div id="service-chart">${barChart(data, { reference: 100, unit: "%" })}</div>${note}`
    : nodata("нет завершённых визитов с нормой"));
}

export function bindWorkers() {
  document.getElementById("figures-month")?.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/workers?month=${encodeURIComponent(new FormData(e.target).get("month"))}`;
  });
}

/* ==== Ratings ==== */

async function ratingsByDay(from, to, rated) {
  const r = await figures("day", from, to);
  if (r.items) {
    return { points: r.items.filter((f) => f.mean_rating != null).sort((a, b) => String(a.day).localeCompare(b.day))
      .map((f) => ({ label: String(f.day).slice(5, 10), value: Number(f.mean_rating) })) };
  }
  if (r.error) return r;
  const byDay = new Map();
  for (const v of rated) {
    const day = (v.ended_at || v.started_at || "").slice(0, 10);
    const e = byDay.get(day) || { sum: 0, n: 0 };
    e.sum += v.rating;
    e.n++;
    byDay.set(day, e);
  }
  return { points: [...byDay].sort().map(([day, e]) => ({ label: day.slice(5), value: e.sum / e.n })), estimated: true };
}

export async function pageRatings() {
  const from = monthStart(-2).toISOString(), to = monthStart(1).toISOString();
  const rated = await allVisits({ state: "rated", from });
  if (rated.error) return `<h1>Оценки</h1>${errorBox(rated.error)}`;
  const days = await ratingsByDay(from, to, rated.items);
  if (days.error) return `<h1>Оценки</h1>${errorBox(days.error)}`;
  const low = rated.items.filter((v) => v.rating <= 2);
  const lowRows = low.map((v) => `<tr><td><a href="#/visit/${esc(v.id)}">${dateTime(v.ended_at)}</a></td><td>${who(v, "worker")}</td>
    <td class="num">${esc(v.rating)}</td><td>${esc(v.comment || "")}</td></tr>`).join("");
  return `<h1>Оценки</h1><h2>Средняя оценка по дням</h2>
    ${days.points.length ? `<div id="day-chart">${lineChart(days.points, { min: 1, max: 5 })}</div>${days.estimated ? fallbackNote : ""}`
    : nodata("оценок пока нет")}
    <h2>Низкие оценки</h2>${lowRows ? `<table><thead><tr><th>Когда</th><th>Сотрудник</th><th class="num">Оценка</th>
    <th>Комментарий</th></tr></thead><tbody>${lowRows}</tbody></table>` : nodata("низких оценок нет")}`;
}

/* The pages of this module (pages.js lists them). */
export const pages = {
  workers: { render: pageWorkers, after: bindWorkers },
  ratings: { render: pageRatings },
};
