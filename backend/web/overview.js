/* The dashboard's overview pages: today (live and finished visits), the visit list
 * with its filters, and the exception queue. Listed in pages.js. */
import { currentUser } from "./session.js";
import {
  FLAG_NAMES, STATE_NAMES, allVisits, api, dateTime, esc, flags, minutes, nodata, short, startOfToday, time, who,
} from "./util.js";

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
  return `<h1>Исключения</h1>${tabs}<p id="exceptions-message" class="error" role="alert" hidden></p>${rows ? `<table id="exceptions"><thead><tr><th>Что</th><th>Визит / карта</th><th>Подробности</th>
    <th>Когда</th><th>Решение</th></tr></thead><tbody>${rows}</tbody></table>` : nodata(status === "open" ? "открытых исключений нет" : "исключений нет")}`;
}

function bindExceptions(rerender) {
  for (const b of document.querySelectorAll("button.resolve")) {
    b.addEventListener("click", async () => {
      const r = await api(`/api/v1/exceptions/${encodeURIComponent(b.dataset.id)}/resolve`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ action: b.dataset.action }) });
      if (r.error || r.missing) {
        /* said in the page (no alert); the next live refresh clears it */
        const m = document.getElementById("exceptions-message");
        m.textContent = r.error || "Решение недоступно на этом сервере";
        m.hidden = false;
        return;
      }
      rerender();
    });
  }
}

/* live: re-rendered on every ingest notification. A page with a form is not: a
 * re-render would wipe what the user is typing. */
export const pages = {
  today: { render: pageToday, live: true },
  visits: { render: pageVisits, after: bindVisitFilters },
  exceptions: { render: pageExceptions, live: true, after: bindExceptions },
};
