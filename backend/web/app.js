/* carefact manager dashboard: a hash-routed single page over the carefactd API.
 * Views: today (live visits, updated from the server-sent event stream), visits with
 * filters, one visit with its event timeline, workers, exceptions, ratings and the
 * payment register. Parts of the API that this server does not have yet answer 404;
 * their views then say "нет данных" instead of breaking. All text shown is Russian. */
import { barChart, lineChart } from "./charts.js";
import { currentUser, logout, showLogin, whoami, withSession } from "./session.js";

const FLAG_NAMES = {
  early_leave: "ранний уход", overtime: "сверх нормы", clock_uncertain: "время не подтверждено",
  card_mismatch: "чужая карта", low_rating: "низкая оценка", geo_far: "далеко от адреса",
  overlap: "наложение визитов", abandoned: "не завершено", overdue: "дольше нормы",
  card_binding: "привязка карты",
};
const STATE_NAMES = { planned: "запланировано", started: "идёт", ended: "завершено", rated: "оценено", cancelled: "отменено" };
const KIND_NAMES = {
  "visit.started": "Начало визита", "visit.ended": "Окончание визита", "visit.rated": "Оценка",
  "visit.cancelled": "Отмена", "visit.attempt": "Попытка визита", "card.unrecognized": "Неизвестная карта",
  "card.bound": "Привязка карты",
};
const REASON_NAMES = { nobody_home: "никого нет дома", refused: "отказ", in_hospital: "в больнице",
  worker_ill: "болезнь сотрудника", other: "другое" };

/* ==== Helpers ==== */

const main = document.getElementById("main");

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/* GET a JSON resource (or send one with options) with the session. {missing: true}
 * when the server has no such route yet (404/405), {error} for any other failure,
 * else {data}. An ended session brings the sign-in form back. */
async function api(path, options) {
  try {
    const res = await fetch(path, withSession(options));
    if (res.status === 401) {
      signIn("Сеанс завершён, войдите снова.");
      return { error: "Требуется вход" };
    }
    if (res.status === 404 || res.status === 405) return { missing: true };
    const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (!res.ok) return { error: body?.detail || `Ошибка сервера (${res.status})` };
    return { data: body };
  } catch (e) {
    return { error: "Сервер недоступен" };
  }
}

/* Every page of a visit list (capped: the dashboard shows recent work, not archives). */
async function allVisits(query, maxPages = 6) {
  let items = [], cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const params = new URLSearchParams(query);
    params.set("limit", "500");
    if (cursor) params.set("cursor", cursor);
    const r = await api(`/api/v1/visits?${params}`);
    if (!r.data) return r.items ? r : { ...r, items };
    items = items.concat(r.data.items);
    cursor = r.data.next_cursor;
    if (!cursor) break;
  }
  return { items };
}

const short = (id) => (id ? String(id).slice(0, 8) : "—");
const who = (v, kind) => esc(v[`${kind}_name`] || short(v[`${kind}_id`]));
const flags = (list) => (list || []).map((f) => `<span class="flag ${esc(f)}">${esc(FLAG_NAMES[f] || f)}</span>`).join("");
const minutes = (s) => (s == null ? "—" : s < 60 ? `${Math.round(s)} с` : `${Math.round(s / 60)} мин`);
const dateTime = (t) => (t ? new Date(t).toLocaleString("ru-RU") : "—");
const time = (t) => (t ? new Date(t).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" }) : "—");
const rub = (kopecks) => (Number(kopecks || 0) / 100).toLocaleString("ru-RU", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const nodata = (what) => `<div class="nodata">Нет данных: ${esc(what)}</div>`;

function startOfToday() {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d;
}

function monthStart(offset = 0) {
  const d = new Date();
  return new Date(d.getFullYear(), d.getMonth() + offset, 1);
}

/* ==== Today ==== */

/* Services are recorded at the end of a visit, so a live visit's expected time comes
 * from its plan, remembered while the plan was listed as not started yet. */
const planNorms = new Map(JSON.parse(sessionStorage.getItem("carefact.planNorms") || "[]"));
function rememberPlans(items) {
  for (const v of items) if (v.state === "planned" && v.expected_minutes) planNorms.set(v.plan_id || v.id, v.expected_minutes);
  sessionStorage.setItem("carefact.planNorms", JSON.stringify([...planNorms].slice(-2000)));
}

function elapsedBar(v) {
  const elapsed = Math.max(0, (Date.now() - Date.parse(v.started_at)) / 1000);
  const expected = (v.expected_minutes || planNorms.get(v.plan_id) || 0) * 60;
  const share = expected ? elapsed / expected : 0;
  const width = expected ? Math.min(share, 1) * 100 : 0;
  const norm = expected ? `${Math.round(expected / 60)} мин` : "норма — по окончании";
  /* SVG, not a styled div: the Content-Security-Policy allows no inline styles. */
  return `<svg class="bar" width="220" height="14" role="img" aria-label="${esc(norm)}"><rect width="220" height="14" rx="7" fill="#eef2f7"></rect>
    <rect width="${(width * 2.2).toFixed(1)}" height="14" rx="7" fill="${share > 1 ? "#b45309" : "#1d4ed8"}"></rect></svg>
    <span class="elapsed" data-started="${esc(v.started_at)}">${minutes(elapsed)}</span> из ${esc(norm)}`;
}

/* Live visits from /api/v1/live (names, elapsed by the server's clock, the plan's
 * norm, overdue/abandoned); from the visit list where that route is missing. */
async function liveVisits() {
  const r = await api("/api/v1/live");
  if (r.missing) return allVisits({ state: "started" }, 2);
  if (r.error) return r;
  const now = Date.now();
  return { items: r.data.items.map((v) => ({ ...v,
    /* elapsed_s is by the server's clock: the bar does not depend on this PC's clock */
    started_at: new Date(now - v.elapsed_s * 1000).toISOString(),
    flags: [...(v.flags || []), ...(v.overdue ? ["overdue"] : []), ...(v.abandoned ? ["abandoned"] : [])] })) };
}

async function pageToday() {
  const [live, today] = await Promise.all([liveVisits(), allVisits({ from: startOfToday().toISOString() }, 2)]);
  if (live.error || today.error) return `<div class="error">${esc(live.error || today.error)}</div>`;
  rememberPlans(today.items);
  const done = today.items.filter((v) => ["ended", "rated", "cancelled"].includes(v.state));
  const planned = today.items.filter((v) => v.state === "planned").length;
  const rows = live.items.map((v) => `<tr data-visit="${esc(v.id)}">
      <td><a href="#/visit/${esc(v.id)}">${time(v.started_at)}</a></td><td>${who(v, "worker")}</td>
      <td>${who(v, "recipient")}</td><td>${elapsedBar(v)}</td><td>${flags(v.flags)}</td></tr>`).join("");
  const doneRows = done.map((v) => `<tr data-visit="${esc(v.id)}">
      <td><a href="#/visit/${esc(v.id)}">${time(v.started_at)}–${time(v.ended_at)}</a></td>
      <td>${who(v, "worker")}</td><td>${who(v, "recipient")}</td><td>${esc(STATE_NAMES[v.state] || v.state)}</td>
      <td class="num">${minutes(v.duration_s)} / ${v.expected_minutes ?? "—"} мин</td><td>${flags(v.flags)}</td></tr>`).join("");
  const flagged = done.filter((v) => (v.flags || []).length).length;
  return `<h1>Сегодня</h1>
    <div class="cards"><div class="card">Идут сейчас<b id="live-count">${live.items.length}</b></div>
      <div class="card">Завершено сегодня<b>${done.length}</b></div>
      <div class="card">С отметками<b>${flagged}</b></div>
      <div class="card">Запланировано, не начато<b>${planned}</b></div></div>
    <h2>Идут сейчас</h2>
    ${rows ? `<table id="live-visits"><thead><tr><th>Начало</th><th>Сотрудник</th><th>Получатель</th>
      <th>Прошло / норма</th><th>Отметки</th></tr></thead><tbody>${rows}</tbody></table>` : nodata("сейчас нет идущих визитов")}
    <h2>Завершены сегодня</h2>
    ${doneRows ? `<table id="done-visits"><thead><tr><th>Время</th><th>Сотрудник</th><th>Получатель</th>
      <th>Состояние</th><th class="num">Длительность / норма</th><th>Отметки</th></tr></thead>
      <tbody>${doneRows}</tbody></table>` : nodata("сегодня ещё нет завершённых визитов")}`;
}

/* ==== Visits ==== */

async function pageVisits(params) {
  const query = {};
  for (const k of ["state", "flag", "worker", "recipient"]) if (params.get(k)) query[k] = params.get(k);
  if (params.get("from")) query.from = new Date(params.get("from")).toISOString();
  if (params.get("to")) query.to = new Date(`${params.get("to")}T23:59:59`).toISOString();
  const r = await api(`/api/v1/visits?${new URLSearchParams({ ...query, limit: "200" })}`);
  const option = (value, label, current) =>
    `<option value="${esc(value)}" ${value === (current || "") ? "selected" : ""}>${esc(label)}</option>`;
  const states = [["", "все"], ...Object.entries(STATE_NAMES)];
  const flagOptions = [["", "любые"], ...Object.entries(FLAG_NAMES)];
  const form = `<form class="filters" id="visit-filters">
    <label>Состояние<select name="state">${states.map(([v, l]) => option(v, l, params.get("state"))).join("")}</select></label>
    <label>Отметка<select name="flag">${flagOptions.map(([v, l]) => option(v, l, params.get("flag"))).join("")}</select></label>
    <label>С<input type="date" name="from" value="${esc(params.get("from") || "")}"></label>
    <label>По<input type="date" name="to" value="${esc(params.get("to") || "")}"></label>
    <label>Сотрудник (id)<input name="worker" size="14" value="${esc(params.get("worker") || "")}"></label>
    <button type="submit">Показать</button></form>`;
  if (r.error) return `<h1>Посещения</h1>${form}<div class="error">${esc(r.error)}</div>`;
  if (r.missing) return `<h1>Посещения</h1>${form}${nodata("список посещений недоступен")}`;
  const rows = r.data.items.map((v) => `<tr data-visit="${esc(v.id)}"><td><a href="#/visit/${esc(v.id)}">${dateTime(v.started_at)}</a></td>
    <td>${who(v, "worker")}</td><td>${who(v, "recipient")}</td><td>${esc(STATE_NAMES[v.state] || v.state)}</td>
    <td class="num">${minutes(v.duration_s)} / ${v.expected_minutes ?? "—"} мин</td>
    <td class="num">${v.rating ?? "—"}</td><td>${flags(v.flags)}</td></tr>`).join("");
  return `<h1>Посещения</h1>${form}${rows ? `<table><thead><tr><th>Начало</th><th>Сотрудник</th><th>Получатель</th>
    <th>Состояние</th><th class="num">Длительность / норма</th><th class="num">Оценка</th><th>Отметки</th></tr></thead>
    <tbody>${rows}</tbody></table>${r.data.next_cursor ? '<p class="muted">Показаны первые 200; уточните фильтр.</p>' : ""}`
    : nodata("нет посещений по этому фильтру")}`;
}

function bindVisitFilters() {
  const form = document.getElementById("visit-filters");
  form?.addEventListener("submit", (e) => {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) params.set(k, String(v));
    location.hash = `#/visits?${params}`;
  });
}

/* ==== One visit ==== */

function eventLine(e) {
  const parts = [];
  if (e.card) parts.push(`карта ${esc(e.card.scheme || e.card.method)} •${esc(e.card.last4 || "")}`);
  if (e.services?.length) parts.push(`услуги: ${e.services.map((s) => `${esc(s.code)}×${s.quantity}`).join(", ")}`);
  if (e.rating) parts.push(`оценка ${e.rating}${e.comment ? ` «${esc(e.comment)}»` : ""}`);
  if (e.reason) parts.push(`причина: ${esc(REASON_NAMES[e.reason] || e.reason)}`);
  if (e.location) parts.push(`место ±${e.location.accuracy_m} м`);
  return `<li><b>${esc(KIND_NAMES[e.kind] || e.kind)}</b> — ${dateTime(e.wall_ms)}
    <div class="muted">${parts.join("; ")}</div></li>`;
}

async function pageVisit(id) {
  const [r, corr] = await Promise.all([api(`/api/v1/visits/${encodeURIComponent(id)}`),
    api(`/api/v1/visits/${encodeURIComponent(id)}/corrections`)]);
  if (r.missing) return `<h1>Посещение</h1>${nodata("такого посещения нет")}`;
  if (r.error) return `<div class="error">${esc(r.error)}</div>`;
  const v = r.data;
  const corrections = corr.data?.items || (Array.isArray(corr.data) ? corr.data : null);
  const corrHtml = corrections?.length
    ? `<ul class="timeline">${corrections.map((c) => `<li><b>${esc(c.field || c.kind || "исправление")}</b> — ${dateTime(c.created_at || c.at)},
        ${esc(c.author || c.by || "")}<div class="muted">${esc(c.reason || "")}</div></li>`).join("")}</ul>`
    : nodata(corr.missing ? "исправления пока не ведутся на этом сервере" : "исправлений нет");
  return `<h1>Посещение ${esc(short(v.id))}</h1>
    <div class="cards"><div class="card">Состояние<b>${esc(STATE_NAMES[v.state] || v.state)}</b></div>
      <div class="card">Длительность<b>${minutes(v.duration_s)}</b></div>
      <div class="card">Норма<b>${v.expected_minutes ?? "—"} мин</b></div>
      <div class="card">Оценка<b>${v.rating ?? "—"}</b></div>
      <div class="card">Карта<b>${v.start_confirmed ? "✔" : "✘"} начало, ${v.end_confirmed ? "✔" : "✘"} конец</b></div></div>
    <p>Сотрудник: ${who(v, "worker")}; получатель: ${who(v, "recipient")}. ${flags(v.flags)}</p>
    <h2>События</h2><ul class="timeline" id="timeline">${(v.events || []).map(eventLine).join("")}</ul>
    <h2>Исправления</h2>${corrHtml}`;
}

/* ==== Workers ==== */

function figuresFromVisits(items) {
  const byWorker = new Map();
  for (const v of items) {
    const f = byWorker.get(v.worker_id) || { worker_id: v.worker_id, worker_name: v.worker_name, visits: 0,
      ratioSum: 0, ratioN: 0, early: 0, over: 0, ratingSum: 0, ratingN: 0, cancelled: 0 };
    f.visits++;
    if (v.state === "cancelled") f.cancelled++;
    if (v.duration_s != null && v.expected_minutes) { f.ratioSum += v.duration_s / 60 / v.expected_minutes; f.ratioN++; }
    if (v.flags?.includes("early_leave")) f.early++;
    if (v.flags?.includes("overtime")) f.over++;
    if (v.rating) { f.ratingSum += v.rating; f.ratingN++; }
    byWorker.set(v.worker_id, f);
  }
  return [...byWorker.values()];
}

async function pageWorkers() {
  const from = monthStart().toISOString();
  const r = await api(`/api/v1/figures?${new URLSearchParams({ group: "worker", from })}`);
  let rows, source = "";
  if (r.data?.items) {
    rows = r.data.items.map((f) => `<tr><td>${esc(f.worker_name || short(f.worker_id))}</td><td class="num">${f.visits ?? "—"}</td>
      <td class="num">${f.mean_duration_ratio != null ? Math.round(f.mean_duration_ratio * 100) + " %" : "—"}</td>
      <td class="num">${f.early_leave_share != null ? Math.round(f.early_leave_share * 100) + " %" : "—"}</td>
      <td class="num">${f.mean_rating != null ? Number(f.mean_rating).toFixed(1) : "—"}</td>
      <td class="num">${f.compliance != null ? Math.round(f.compliance * 100) + " %" : "—"}</td></tr>`).join("");
  } else {
    const visits = await allVisits({ from });
    if (visits.error) return `<div class="error">${esc(visits.error)}</div>`;
    source = '<p class="muted">Показатели рассчитаны по списку посещений (сводка сервера недоступна); соблюдение — нет данных.</p>';
    rows = figuresFromVisits(visits.items).map((f) => `<tr><td>${esc(f.worker_name || short(f.worker_id))}</td>
      <td class="num">${f.visits}</td><td class="num">${f.ratioN ? Math.round((f.ratioSum / f.ratioN) * 100) + " %" : "—"}</td>
      <td class="num">${f.visits ? Math.round((f.early / f.visits) * 100) + " %" : "—"}</td>
      <td class="num">${f.ratingN ? (f.ratingSum / f.ratingN).toFixed(1) : "—"}</td><td class="num">—</td></tr>`).join("");
  }
  return `<h1>Сотрудники — с ${monthStart().toLocaleDateString("ru-RU")}</h1>${rows ? `<table><thead><tr><th>Сотрудник</th>
    <th class="num">Визиты</th><th class="num">Длительность к норме</th><th class="num">Ранние уходы</th>
    <th class="num">Средняя оценка</th><th class="num">Соблюдение</th></tr></thead><tbody>${rows}</tbody></table>`
    : nodata("за этот месяц визитов нет")}${source}${await serviceChart(from)}`;
}

/* Duration against norm per service: the mean of duration / expected over the visits
 * that include the service (100 % = the norm). */
async function serviceChart(from) {
  const visits = await allVisits({ from });
  const byService = new Map();
  for (const v of visits.items || []) {
    if (v.duration_s == null || !v.expected_minutes) continue;
    const ratio = v.duration_s / 60 / v.expected_minutes;
    for (const s of v.services || []) {
      const e = byService.get(s.code) || { sum: 0, n: 0 };
      e.sum += ratio;
      e.n++;
      byService.set(s.code, e);
    }
  }
  const data = [...byService].map(([code, e]) => ({ label: code, value: (e.sum / e.n) * 100 }));
  return `<h2>Длительность к норме по услугам, %</h2>${data.length ? barChart(data, { reference: 100, unit: "%" }) : nodata("нет завершённых визитов с нормой")}`;
}

/* ==== Exceptions ==== */

const ACTIONS = {
  card_binding: [["confirm", "Подтвердить"], ["reject", "Отклонить"]],
  other: [["must_fix", "Требует исправления"], ["acknowledge", "Принять к сведению"]],
};
const ACTION_NAMES = { must_fix: "требует исправления", acknowledge: "принято к сведению", confirm: "подтверждено",
  reject: "отклонено" };

function exceptionDetail(x) {
  const d = x.detail || {};
  const parts = [];
  if (d.rating != null) parts.push(`оценка ${d.rating}`);
  if (d.duration_s != null) parts.push(`${minutes(d.duration_s)} из ${d.expected_minutes ?? "—"} мин`);
  if (d.last4) parts.push(`карта •${esc(d.last4)}`);
  return parts.join("; ");
}

async function pageExceptions(params) {
  const status = params.get("status") || "open";
  const r = await api(`/api/v1/exceptions?${new URLSearchParams({ status })}`);
  const tabs = `<p class="filters">${[["open", "Открытые"], ["resolved", "Решённые"], ["all", "Все"]].map(([v, l]) =>
    v === status ? `<b>${l}</b>` : `<a href="#/exceptions?status=${v}">${l}</a>`).join(" ")}
    <span class="muted">Решение записывается от имени ${esc(currentUser()?.login || "")}</span></p>`;
  if (r.error) return `<h1>Исключения</h1>${tabs}<div class="error">${esc(r.error)}</div>`;
  const items = r.data?.items;
  if (!items) return `<h1>Исключения</h1>${nodata("очередь исключений ещё не подключена")}`;
  const rows = items.map((x) => {
    const subject = x.kind === "card_binding" ? esc(short(x.subject_id)) : `<a href="#/visit/${esc(x.subject_id)}">${esc(short(x.subject_id))}</a>`;
    const buttons = x.status === "open"
      ? (ACTIONS[x.kind] || ACTIONS.other).map(([a, l]) => `<button class="resolve plain" data-id="${esc(x.id)}" data-action="${a}">${l}</button>`).join(" ")
      : `${esc(ACTION_NAMES[x.resolution?.action] || "")} — ${esc(x.resolution?.resolved_by || "")}${x.resolution?.note ? `: ${esc(x.resolution.note)}` : ""}`;
    return `<tr data-exception="${esc(x.id)}" data-subject="${esc(x.subject_id)}"><td>${flags([x.kind])}</td><td>${subject}</td>
      <td>${esc(exceptionDetail(x))}</td><td>${dateTime(x.at)}</td><td>${buttons}</td></tr>`;
  }).join("");
  return `<h1>Исключения</h1>${tabs}${rows ? `<table id="exceptions"><thead><tr><th>Что</th><th>Визит / карта</th><th>Подробности</th>
    <th>Когда</th><th>Решение</th></tr></thead><tbody>${rows}</tbody></table>` : nodata(status === "open" ? "открытых исключений нет" : "исключений нет")}`;
}

function bindExceptions() {
  for (const b of document.querySelectorAll("button.resolve")) {
    b.addEventListener("click", async () => {
      const r = await api(`/api/v1/exceptions/${encodeURIComponent(b.dataset.id)}/resolve`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ action: b.dataset.action }) });
      if (r.error || r.missing) alert(r.error || "Решение недоступно на этом сервере");
      render();
    });
  }
}

/* ==== Ratings ==== */

async function pageRatings() {
  const from = monthStart(-2).toISOString();
  const r = await allVisits({ state: "rated", from });
  if (r.error) return `<h1>Оценки</h1><div class="error">${esc(r.error)}</div>`;
  const byDay = new Map();
  for (const v of r.items) {
    const day = (v.ended_at || v.started_at || "").slice(0, 10);
    const e = byDay.get(day) || { sum: 0, n: 0 };
    e.sum += v.rating;
    e.n++;
    byDay.set(day, e);
  }
  const points = [...byDay].sort().map(([day, e]) => ({ label: day.slice(5), value: e.sum / e.n }));
  const low = r.items.filter((v) => v.rating <= 2);
  const lowRows = low.map((v) => `<tr><td><a href="#/visit/${esc(v.id)}">${dateTime(v.ended_at)}</a></td><td>${who(v, "worker")}</td>
    <td class="num">${v.rating}</td><td>${esc(v.comment || "")}</td></tr>`).join("");
  return `<h1>Оценки</h1><h2>Средняя оценка по дням</h2>
    ${points.length ? lineChart(points, { min: 1, max: 5 }) : nodata("оценок пока нет")}
    <h2>Низкие оценки</h2>${lowRows ? `<table><thead><tr><th>Когда</th><th>Сотрудник</th><th class="num">Оценка</th>
    <th>Комментарий</th></tr></thead><tbody>${lowRows}</tbody></table>` : nodata("низких оценок нет")}`;
}

/* ==== Payment register ==== */

async function pageRegister(params) {
  const month = params.get("month") || new Date().toISOString().slice(0, 7);
  const r = await api(`/api/v1/registers?${new URLSearchParams({ month })}`);
  const picker = `<form class="filters" id="register-month"><label>Месяц<input type="month" name="month" value="${esc(month)}"></label>
    <button type="submit">Показать</button></form>`;
  if (r.error) return `<h1>Реестр оплаты</h1>${picker}<div class="error">${esc(r.error)}</div>`;
  const registers = r.data?.items;
  if (!registers) return `<h1>Реестр оплаты</h1>${picker}${nodata("реестр оплаты ещё не подключён")}`;
  if (!registers.length) return `<h1>Реестр оплаты</h1>${picker}${nodata("за этот месяц реестров нет")}`;
  const rows = registers.map((g) => `<tr data-register="${esc(g.id)}"><td>${esc(g.provider_name || short(g.provider_id))}</td>
    <td>${esc(g.state)}</td><td class="num">${g.included_count ?? "—"}</td><td class="num">${g.excluded_count ?? "—"}</td>
    <td class="num">${rub(g.total_kopecks)} ₽</td>
    <td><a class="csv" href="/api/v1/registers/${esc(g.id)}/export?format=csv" download>CSV</a>
    ${g.state === "submitted" ? `<button class="approve" data-id="${esc(g.id)}">Утвердить</button>` : ""}</td></tr>`).join("");
  return `<h1>Реестр оплаты</h1>${picker}<table id="registers"><thead><tr><th>Поставщик</th><th>Состояние</th>
    <th class="num">Включено</th><th class="num">Исключено</th><th class="num">Сумма</th><th></th></tr></thead>
    <tbody>${rows}</tbody></table>`;
}

function bindRegister() {
  document.getElementById("register-month")?.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/register?month=${new FormData(e.target).get("month")}`;
  });
  for (const b of document.querySelectorAll("button.approve")) {
    b.addEventListener("click", async () => {
      const r = await api(`/api/v1/registers/${encodeURIComponent(b.dataset.id)}/approve`, { method: "POST" });
      if (r.error || r.missing) alert(r.error || "Утверждение недоступно");
      render();
    });
  }
}

/* ==== Router and live updates ==== */

const PAGES = {
  today: { render: pageToday, live: true },
  visits: { render: pageVisits, after: bindVisitFilters },
  visit: { render: (params, id) => pageVisit(id), live: true },
  workers: { render: pageWorkers },
  exceptions: { render: pageExceptions, live: true, after: bindExceptions },
  ratings: { render: pageRatings },
  register: { render: pageRegister, after: bindRegister },
};

function route() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, arg] = path.split("/");
  return { name: PAGES[name] ? name : "today", arg: arg ? decodeURIComponent(arg) : "", params: new URLSearchParams(query || "") };
}

let renderSeq = 0;
async function render() {
  const seq = ++renderSeq;
  const { name, arg, params } = route();
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === name);
  const html = await PAGES[name].render(params, arg);
  if (seq !== renderSeq) return; /* a newer render started meanwhile */
  main.innerHTML = html;
  PAGES[name].after?.();
  document.body.dataset.rendered = String(seq);
}

let refreshTimer = null;
function refreshSoon() {
  if (!PAGES[route().name].live) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(render, 200);
}

function connectStream() {
  const badge = document.getElementById("live");
  const stream = new EventSource("/api/v1/stream");
  /* "ready" comes on every (re)connection: whatever happened meanwhile is re-read. */
  stream.addEventListener("ready", () => {
    badge.className = "live on";
    badge.textContent = "в реальном времени";
    refreshSoon();
  });
  stream.addEventListener("events", refreshSoon);
  stream.onerror = () => {
    badge.className = "live off";
    badge.textContent = "нет связи";
  };
}

/* Elapsed time of live visits moves every second without asking the server. */
setInterval(() => {
  for (const el of document.querySelectorAll(".elapsed[data-started]"))
    el.textContent = minutes((Date.now() - Date.parse(el.dataset.started)) / 1000);
}, 1000);

/* Who is signed in, with a way out, in the header. */
function showUser() {
  const box = document.getElementById("user");
  const user = currentUser();
  box.innerHTML = user ? `${esc(user.login)} <button id="logout" class="plain">Выйти</button>` : "";
  document.getElementById("logout")?.addEventListener("click", async () => {
    await logout();
    signIn();
  });
}

let streaming = false;
function signIn(message = "") {
  showUser();
  showLogin(main, () => {
    showUser();
    render();
    if (!streaming) {
      streaming = true;
      connectStream();
    }
  }, message);
}

window.addEventListener("hashchange", () => currentUser() && render());
whoami().then((user) => {
  if (!user) return signIn();
  showUser();
  render();
  streaming = true;
  connectStream();
});
