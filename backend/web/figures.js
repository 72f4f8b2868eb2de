/* The figures pages: workers (a table per worker with compliance, and the chart of
 * duration against norm per service) and ratings (mean rating per day, low ratings).
 * Every number comes from the server: GET /api/v1/figures, computed over the visits
 * with their corrections applied, and the visits' flags (low_rating is the server's
 * verdict, against its low_rating_max). The page never estimates: without the server's
 * answer it says so. */
import { barChart, lineChart } from "./charts.js";
import {
  FLAG_NAMES, REASON_NAMES, allVisits, api, dateTime, errorBox, esc, monthName, monthParam, monthRange, monthStart, nodata,
  percent, short, who,
} from "./util.js";

/* {items, thresholds} from the figures route, or {error} (also when this server has no
 * such route). */
async function figures(group, from, to) {
  const r = await api(`/api/v1/figures?${new URLSearchParams({ group, from, to })}`);
  if (r.data) return { items: r.data.items || [], thresholds: r.data.thresholds };
  if (r.missing) return { error: "Сводка показателей на сервере недоступна." };
  return r;
}

/* ==== Workers ==== */

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

/* Visits with an integrity flag (overlap, far from the address, impossible travel): the
 * server's counts, one cell with the three in its title. */
const integrityCell = (f) => {
  const kinds = ["overlap", "far_from_address", "impossible_travel"];
  const counts = [f.overlaps, f.far_from_address, f.impossible_travel];
  if (counts.some((n) => n == null)) return `<td class="num">—</td>`;
  const title = kinds.map((k, i) => `${FLAG_NAMES[k]}: ${counts[i]}`).join("; ");
  return `<td class="num integrity" title="${esc(title)}">${esc(counts.join(" / "))}</td>`;
};

const workerRow = (f) => `<tr data-worker="${esc(f.worker_id)}"><td>${esc(f.worker_name || short(f.worker_id))}</td>
  <td class="num">${esc(f.visits ?? "—")}</td><td class="num">${esc(f.ended ?? "—")}</td>
  <td class="num">${percent(f.mean_duration_ratio)}</td><td class="num">${percent(f.early_leave_share)}</td>
  <td class="num">${percent(f.overtime_share)}</td>
  <td class="num">${f.mean_rating != null ? Number(f.mean_rating).toFixed(1).replace(".", ",") : "—"}</td>
  <td class="num">${esc(f.low_ratings ?? "—")}</td>${integrityCell(f)}<td class="num">${esc(f.cancelled ?? "—")}</td>
  <td class="num">${esc(f.attempts ?? "—")}</td><td class="num compliance">${percent(f.compliance)}</td>
  <td class="num dynamic-share" title="доля подтверждений начала и конца, подписанных картой">${percent(f.dynamic_share)}</td></tr>`;

/* Each provider's share of confirmations the card signed (dynamic) and its visits whose
 * card proof failed: the server's figures (group=provider). */
async function providerProofs(from, to) {
  const title = "<h2>Подтверждение подписью карты по организациям</h2>";
  const r = await figures("provider", from, to);
  if (r.error) return title + errorBox(r.error);
  if (!r.items.length) return title + nodata("за этот месяц визитов нет");
  return `${title}<table id="provider-proofs"><thead><tr><th>Организация</th><th class="num">Завершено</th>
    <th class="num">Подписано картой</th><th class="num">Подпись не прошла проверку</th></tr></thead><tbody>
    ${r.items.map((f) => `<tr data-provider="${esc(f.provider_id)}"><td>${esc(f.provider_name || short(f.provider_id))}</td>
      <td class="num">${esc(f.ended ?? "—")}</td><td class="num dynamic-share">${percent(f.dynamic_share)}</td>
      <td class="num">${esc(f.proof_failures ?? "—")}</td></tr>`).join("")}</tbody></table>`;
}

export async function pageWorkers(params) {
  const month = monthParam(params);
  const { from, to } = monthRange(month);
  const head = `<h1>Сотрудники — ${esc(monthName(month))}</h1>
    <form class="filters" id="figures-month"><label>Месяц<input type="month" name="month" value="${esc(month)}"></label>
    <button type="submit">Показать</button></form>`;
  const r = await figures("worker", from, to);
  if (r.error) return head + errorBox(r.error);
  const table = r.items.length ? `<table id="workers"><thead><tr><th>Сотрудник</th><th class="num">Визиты</th>
    <th class="num">Завершено</th><th class="num">Длительность к норме</th><th class="num">Ранние уходы</th>
    <th class="num">Сверх нормы</th><th class="num">Средняя оценка</th><th class="num">Низкие оценки</th>
    <th class="num" title="наложение визитов / далеко от адреса / невозможный переезд">Наложения / далеко / переезды</th>
    <th class="num">Отмены</th><th class="num">Попытки</th><th class="num">Соблюдение</th>
    <th class="num">Подпись карты</th></tr></thead>
    <tbody>${r.items.map(workerRow).join("")}</tbody></table>` : nodata("за этот месяц визитов нет");
  return `${head}${table}${await providerProofs(from, to)}${reasonTable(r.items)}${await serviceChart(from, to)}`;
}

/* Duration against norm per service, 100 % = the norm: the server's mean of duration /
 * expected per service, marked early or over time by the server's thresholds. */
async function serviceChart(from, to) {
  const title = "<h2>Длительность к норме по услугам, %</h2>";
  const r = await figures("service", from, to);
  if (r.error) return title + errorBox(r.error);
  const data = r.items.filter((f) => f.mean_duration_ratio != null).map((f) => ({
    label: f.service_code, title: `${f.service_name || f.service_code}${f.norm_minutes ? `, норма ${f.norm_minutes} мин` : ""}`,
    value: Number(f.mean_duration_ratio) * 100 }));
  const t = r.thresholds || {};
  const marks = { under: t.early_leave_ratio != null ? 100 * t.early_leave_ratio : null,
    over: t.overtime_ratio != null ? 100 * t.overtime_ratio : null };
  return title + (data.length ? `<div id="service-chart">${barChart(data, { reference: 100, unit: "%", ...marks })}</div>`
    : nodata("нет завершённых визитов с нормой"));
}

export function bindWorkers() {
  document.getElementById("figures-month")?.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/workers?month=${encodeURIComponent(new FormData(e.target).get("month"))}`;
  });
}

/* ==== Ratings ==== */

async function ratingsByDay(from, to) {
  const r = await figures("day", from, to);
  if (r.error) return r;
  return { points: r.items.filter((f) => f.mean_rating != null).sort((a, b) => String(a.day).localeCompare(b.day))
    .map((f) => ({ label: String(f.day).slice(5, 10), value: Number(f.mean_rating) })) };
}

export async function pageRatings() {
  const from = monthStart(-2).toISOString(), to = monthStart(1).toISOString();
  const days = await ratingsByDay(from, to);
  if (days.error) return `<h1>Оценки</h1>${errorBox(days.error)}`;
  /* low ratings as the server judged them (the visits' low_rating flag) */
  const low = await allVisits({ flag: "low_rating", from });
  if (low.error) return `<h1>Оценки</h1>${errorBox(low.error)}`;
  const lowRows = low.items.map((v) => `<tr><td><a href="#/visit/${esc(v.id)}">${dateTime(v.ended_at)}</a></td><td>${who(v, "worker")}</td>
    <td class="num">${esc(v.rating)}</td><td>${esc(v.comment || "")}</td></tr>`).join("");
  return `<h1>Оценки</h1><h2>Средняя оценка по дням</h2>
    ${days.points.length ? `<div id="day-chart">${lineChart(days.points, { min: 1, max: 5 })}</div>` : nodata("оценок пока нет")}
    <h2>Низкие оценки</h2>${lowRows ? `<table><thead><tr><th>Когда</th><th>Сотрудник</th><th class="num">Оценка</th>
    <th>Комментарий</th></tr></thead><tbody>${lowRows}</tbody></table>` : nodata("низких оценок нет")}`;
}

/* The pages of this module (pages.js lists them). */
export const pages = {
  workers: { render: pageWorkers, after: bindWorkers },
  ratings: { render: pageRatings },
};
