/* Mobile brigade trips (issue 16): the list of trips, the trip form (a day, the villages
 * in order with their times, the members, the partner organisations) and a trip's day —
 * its villages with the people booked in each, members, partners, the applications taken
 * on it, the journal — with the lead's announce / done / cancel and the front office's
 * booking of a person. The server checks every rule again (sql/0031): announcing fewer
 * than the region's notice days ahead is refused, a booking must fit a village's times. */
import { api, dateTime, errorBox, esc, localDate, nodata, post, role } from "./util.js";
import { currentUser } from "./session.js";

const STATES = { planned: "запланирован", announced: "объявлен", done: "проведён", cancelled: "отменён" };
const KINDS = { home_survey: "обследование на дому", aid_handover: "выдача средства реабилитации" };
const BOOKED = { booked: "записан", checked_in: "пришёл", in_service: "на приёме", served: "обслужен",
  left_unserved: "ушёл без обслуживания", no_show: "не пришёл", cancelled: "запись отменена", rescheduled: "перенесена" };
const CHANGES = { created: "создан", edited: "изменён", moved: "состояние" };
const canPlan = () => ["intake_lead", "admin"].includes(role());
const canBook = () => ["intake", "intake_lead", "admin"].includes(role());

/* ==== The list ==== */

async function pageTrips(params) {
  const state = params.get("state") || "";
  const from = params.get("from") || "";
  const query = new URLSearchParams();
  if (state) query.set("state", state);
  if (from) query.set("from", from);
  const r = await api(`/api/v1/trips${query.toString() ? `?${query}` : ""}`);
  const head = `<h1>Выездные бригады</h1>
    <form class="filters" id="trip-filters"><label>С даты<input type="date" name="from" value="${esc(from)}"></label>
    <label>Состояние<select name="state"><option value="">любое</option>${Object.entries(STATES)
      .map(([k, v]) => `<option value="${k}"${k === state ? " selected" : ""}>${esc(v)}</option>`).join("")}</select></label>
    <button type="submit">Показать</button></form>
    ${canPlan() ? '<p><a href="#/trip-form" class="button">Новый выезд</a></p>' : ""}`;
  if (r.error) return head + errorBox(r.error);
  const trips = r.data?.trips || [];
  if (!trips.length) return head + nodata("выездов нет");
  return `${head}<table id="trips"><thead><tr><th scope="col">День</th><th scope="col">Выезд</th>
    <th scope="col">Населённые пункты</th><th scope="col">Состояние</th><th scope="col" class="number">Записей</th></tr></thead><tbody>${trips
    .map((t) => `<tr data-trip="${esc(t.id)}"><td>${esc(localDate(t.day))}</td>
      <td><a href="#/trip?id=${encodeURIComponent(t.id)}">${esc(t.title)}</a><br><small>${esc(t.office)}</small></td>
      <td>${t.settlements.map((s) => `${esc(s.arrives)} ${esc(s.name)}`).join("<br>")}</td>
      <td>${esc(STATES[t.state] || t.state)}</td><td class="number">${esc(t.appointments)}</td></tr>`).join("")}</tbody></table>`;
}

function bindTrips() {
  document.getElementById("trip-filters")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams(Object.entries(Object.fromEntries(new FormData(e.target))).filter(([, v]) => v));
    location.hash = `#/trips${q.toString() ? `?${q}` : ""}`;
  });
}

/* ==== The form ==== */

/* "10:00-12:00 д. Ивановка; у магазина" per line -> settlements; null when a line is not that shape. */
export function parseSettlements(text) {
  const out = [];
  for (const line of String(text || "").split("\n").map((l) => l.trim()).filter(Boolean)) {
    const m = /^(\d{1,2}:\d{2})\s*[-–—]\s*(\d{1,2}:\d{2})\s+([^;]+?)\s*(?:;\s*(.*))?$/.exec(line);
    if (!m) return null;
    const pad = (t) => t.padStart(5, "0");
    out.push({ name: m[3], place: m[4] || "", arrives: pad(m[1]), leaves: pad(m[2]) });
  }
  return out;
}

/* "worker <id> обязанность" / "user <id> обязанность" per line -> members. */
export function parseMembers(text) {
  const out = [];
  for (const line of String(text || "").split("\n").map((l) => l.trim()).filter(Boolean)) {
    const m = /^(worker|user)\s+([0-9a-fA-F-]{36})\s*(.*)$/.exec(line);
    if (!m) return null;
    out.push({ [`${m[1]}_id`]: m[2], duty: m[3] });
  }
  return out;
}

/* "Организация — что делает" per line -> partners. */
export const parsePartners = (text) => String(text || "").split("\n").map((l) => l.trim()).filter(Boolean)
  .map((l) => { const [name, ...rest] = l.split(/\s+[—-]\s+/); return { name, activity: rest.join(" — ") }; });

async function pageTripForm(params) {
  const id = params.get("id");
  const head = `<h1>${id ? "Изменить выезд" : "Новый выезд бригады"}</h1>`;
  if (!canPlan()) return head + errorBox("Планирует выезды руководитель офиса или администратор.");
  let trip = { day: "", title: "", booking_info: "", slot_minutes: 30, settlements: [], members: [], partners: [] };
  if (id) {
    const r = await api(`/api/v1/trips/${encodeURIComponent(id)}`);
    if (r.missing) return head + nodata("такого выезда нет");
    if (r.error) return head + errorBox(r.error);
    trip = r.data;
  }
  const own = currentUser()?.office_id;
  const offices = own || id ? [] : (await api("/api/v1/offices")).data?.items || [];
  const officeChoice = offices.length ? `<label>Офис<select name="office_id">${offices
    .map((o) => `<option value="${esc(o.id)}">${esc(o.name)}</option>`).join("")}</select></label>` : "";
  const settlements = trip.settlements.map((s) => `${s.arrives}-${s.leaves} ${s.name}${s.place ? `; ${s.place}` : ""}`).join("\n");
  const members = (trip.members || []).map((m) => (m.worker_id ? `worker ${m.worker_id}` : `user ${m.user_id}`) + (m.duty ? ` ${m.duty}` : "")).join("\n");
  const partners = trip.partners.map((p) => (p.activity ? `${p.name} — ${p.activity}` : p.name)).join("\n");
  return `${head}<form id="trip-form" data-trip="${esc(id || "")}">
    <fieldset class="filters"><legend>Выезд</legend>${officeChoice}
      <label>День<input type="date" name="day" required value="${esc(trip.day)}"></label>
      <label>Название<input name="title" required maxlength="200" value="${esc(trip.title)}"></label>
      <label>Длительность приёма, минут<input type="number" name="slot_minutes" min="10" max="240" value="${esc(trip.slot_minutes)}"></label>
      <label>Поставщик (id, если едут его работники)<input name="provider_id" value="${esc(trip.provider_id || "")}"></label></fieldset>
    <label>Как записаться (видят жители)<input name="booking_info" maxlength="500" value="${esc(trip.booking_info)}"></label>
    <label>Населённые пункты по порядку: «10:00-12:00 д. Ивановка; у магазина», по строке на пункт
      <textarea name="settlements" rows="5" required>${esc(settlements)}</textarea></label>
    <label>Участники: «worker &lt;id&gt; соцработник» или «user &lt;id&gt; приём заявлений», по строке
      <textarea name="members" rows="4">${esc(members)}</textarea></label>
    <label>Организации-партнёры: «Лодейнопольская ЦРБ — флюорография», по строке
      <textarea name="partners" rows="3">${esc(partners)}</textarea></label>
    <p id="trip-message" role="alert" hidden></p>
    <button type="submit">Сохранить</button></form>`;
}

function say(id, text, error) {
  const m = document.getElementById(id);
  if (!m) return;
  m.textContent = text;
  m.className = error ? "error" : "ok";
  m.hidden = !text;
}

function bindTripForm() {
  const form = document.getElementById("trip-form");
  form?.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const settlements = parseSettlements(data.get("settlements"));
    if (!settlements?.length) return say("trip-message", "Населённые пункты: запишите как «10:00-12:00 д. Ивановка; у магазина».", true);
    const members = parseMembers(data.get("members"));
    if (!members) return say("trip-message", "Участники: запишите как «worker <id> соцработник».", true);
    const body = { day: data.get("day"), title: data.get("title"), booking_info: data.get("booking_info"),
      slot_minutes: Number(data.get("slot_minutes") || 30), settlements, members, partners: parsePartners(data.get("partners")) };
    if (data.get("provider_id")) body.provider_id = data.get("provider_id");
    if (data.get("office_id")) body.office_id = data.get("office_id");
    const id = form.dataset.trip;
    const r = await api(id ? `/api/v1/trips/${encodeURIComponent(id)}` : "/api/v1/trips",
      { method: id ? "PUT" : "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (r.error || r.missing) return say("trip-message", r.error || "Выезд не найден.", true);
    location.hash = `#/trip?id=${encodeURIComponent(r.data.id)}`;
  });
}

/* ==== A trip's day ==== */

function actions(t) {
  if (!canPlan()) return "";
  const buttons = [];
  if (t.state === "planned") buttons.push(`<a class="button" href="#/trip-form?id=${encodeURIComponent(t.id)}">Изменить</a>`,
    '<button type="button" data-to="announced">Объявить</button>');
  if (t.state === "announced") buttons.push('<button type="button" data-to="done">Выезд проведён</button>');
  if (t.state === "planned" || t.state === "announced") {
    buttons.push('<label>Причина отмены<input name="reason" id="trip-reason" maxlength="1000"></label>',
      '<button type="button" data-to="cancelled">Отменить выезд</button>');
  }
  return `<div class="actions" id="trip-actions">${buttons.join(" ")}</div>`;
}

function bookingForm(t) {
  if (!canBook() || !["planned", "announced"].includes(t.state)) return "";
  return `<form id="trip-booking" class="filters"><fieldset><legend>Записать человека</legend>
    <label>Пункт<select name="settlement">${t.settlements.map((s) => `<option value="${s.position}">${esc(s.name)} (${esc(s.arrives)}–${esc(s.leaves)})</option>`).join("")}</select></label>
    <label>Время<input type="time" name="time" required></label>
    <label>Цель<select name="kind">${Object.entries(KINDS).map(([k, v]) => `<option value="${k}">${esc(v)}</option>`).join("")}</select></label>
    <label>ФИО<input name="person_name" required maxlength="200"></label>
    <label>Телефон<input name="phone" required maxlength="40"></label>
    <button type="submit">Записать</button></fieldset></form>`;
}

async function pageTrip(params) {
  const id = params.get("id") || "";
  const r = await api(`/api/v1/trips/${encodeURIComponent(id)}`);
  if (r.missing) return "<h1>Выезд</h1>" + nodata("такого выезда нет");
  if (r.error) return "<h1>Выезд</h1>" + errorBox(r.error);
  const t = r.data;
  const booked = (position) => t.appointments.filter((a) => a.settlement === position);
  const settlements = t.settlements.map((s) => `<tr><th scope="row">${esc(s.position)}. ${esc(s.name)}</th>
    <td>${esc(s.arrives)}–${esc(s.leaves)}${s.place ? `, ${esc(s.place)}` : ""}</td><td>${booked(s.position)
      .map((a) => `${esc(new Date(a.start).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" }))} ${esc(a.person_name)}, ${esc(a.phone)} — ${esc(KINDS[a.kind] || a.kind)} (${esc(BOOKED[a.state] || a.state)})`)
      .join("<br>") || "—"}</td></tr>`).join("");
  const members = (t.members || []).map((m) => `<li>${esc(m.worker_name || m.login || m.worker_id || m.user_id)}${m.duty ? ` — ${esc(m.duty)}` : ""}${m.devices?.length ? ` <small>(терминалов: ${m.devices.filter((d) => d.status === "active").length})</small>` : ""}</li>`).join("");
  const partners = t.partners.map((p) => `<li>${esc(p.name)}${p.activity ? ` — ${esc(p.activity)}` : ""}</li>`).join("");
  const applications = t.applications.map((a) => `<li><a href="#/application?id=${encodeURIComponent(a.id)}">${esc(a.number)}</a> ${esc(a.applicant_name)} (${esc(a.state)})</li>`).join("");
  const journal = t.journal.map((j) => `<li>${esc(dateTime(j.at))}: ${esc(CHANGES[j.change] || j.change)}${j.change === "moved" ? ` → ${esc(STATES[j.to] || j.to)}` : ""}, ${esc(j.actor)}${j.reason ? ` — ${esc(j.reason)}` : ""}</li>`).join("");
  return `<h1>${esc(t.title)}</h1>
    <p><b>${esc(localDate(t.day))}</b>, ${esc(t.office)} — <span id="trip-state">${esc(STATES[t.state] || t.state)}</span>${t.reason ? `: ${esc(t.reason)}` : ""}</p>
    ${actions(t)}<p id="trip-message" role="alert" hidden></p>
    <h2>Населённые пункты и записи</h2><table id="trip-day"><tbody>${settlements}</tbody></table>
    ${bookingForm(t)}
    <h2>Участники</h2>${members ? `<ul>${members}</ul>` : nodata("участников нет")}
    <h2>Организации-партнёры</h2>${partners ? `<ul>${partners}</ul>` : nodata("партнёров нет")}
    <h2>Заявления, принятые на выезде</h2>${applications ? `<ul id="trip-applications">${applications}</ul>` : nodata("заявлений нет")}
    <h2>Журнал</h2><ul>${journal}</ul>`;
}

function bindTrip(rerender, params) {
  const id = params?.get("id") || new URLSearchParams(location.hash.split("?")[1] || "").get("id");
  document.getElementById("trip-actions")?.addEventListener("click", async (e) => {
    const to = e.target?.dataset?.to;
    if (!to) return;
    const reason = document.getElementById("trip-reason")?.value || "";
    const r = await post(`/api/v1/trips/${encodeURIComponent(id)}/transitions`, to === "cancelled" ? { to, reason } : { to });
    if (r.error) return say("trip-message", r.problem?.type?.endsWith("/trip-notice")
      ? "Слишком поздно объявлять: выезд объявляют заранее (не позже чем за 3 дня, если регион не установил иначе)." : r.error, true);
    await rerender();
  });
  const form = document.getElementById("trip-booking");
  form?.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const r = await api(`/api/v1/trips/${encodeURIComponent(id)}`);
    const day = r.data?.day;
    const start = new Date(`${day}T${data.get("time")}:00`).toISOString();
    const answer = await post(`/api/v1/trips/${encodeURIComponent(id)}/appointments`, {
      settlement: Number(data.get("settlement")), start, kind: data.get("kind"),
      person_name: data.get("person_name"), phone: data.get("phone") });
    if (answer.error) return say("trip-message", answer.error, true);
    await rerender();
  });
}

/* The pages of this module (pages.js lists them). */
export const pages = {
  trips: { render: (params) => pageTrips(params), after: () => bindTrips() },
  "trip-form": { render: (params) => pageTripForm(params), after: () => bindTripForm() },
  trip: { render: (params) => pageTrip(params), after: (rerender, params) => bindTrip(rerender, params) },
};
