/* The office's booking settings (issue 16): how many desks serve at once, the slot length,
 * how far ahead people may book, the per-person limit, how long a hold lasts, the no-show
 * grace, and the weekly opening hours («09:00-13:00, 14:00-18:00» per weekday: a lunch
 * break is two periods). The office's intake lead and the administrator change them
 * (PUT /api/v1/offices/{id}/booking, audited), the department reads them. The server
 * checks every rule again; appointments already made keep their times. */
import { api, errorBox, esc, nodata, role } from "./util.js";
import { currentUser, withSession } from "./session.js";

const WEEKDAYS = ["понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"];
const NUMBERS = [
  ["seats", "Окон (приём одновременно)", 1, 50],
  ["slot_minutes", "Длительность приёма, минут", 5, 240],
  ["horizon_days", "Запись вперёд, дней", 1, 90],
  ["person_limit", "Записей на одного человека", 1, 20],
  ["hold_minutes", "Бронь на заполнение формы, минут", 1, 60],
  ["grace_minutes", "Ожидание опоздавшего, минут", 0, 120],
];
const FIELD_NAMES = Object.fromEntries(NUMBERS.map(([k, label]) => [k, label]));
const canEdit = () => ["intake_lead", "admin"].includes(role());

/* "09:00-13:00, 14:00-18:00" -> [{opens, closes}]; null when it is not that shape. */
export function parsePeriods(text) {
  const parts = String(text || "").split(",").map((p) => p.trim()).filter(Boolean);
  const out = [];
  for (const p of parts) {
    const m = /^(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})$/.exec(p);
    if (!m) return null;
    const pad = (h, mm) => `${h.padStart(2, "0")}:${mm}`;
    out.push({ opens: pad(m[1], m[2]), closes: pad(m[3], m[4]) });
  }
  return out;
}

const periodsText = (hours, weekday) => hours.filter((h) => h.weekday === weekday)
  .map((h) => `${h.opens}-${h.closes}`).join(", ");

/* Why the server refused, in words the lead reads. */
function refusalText(problem) {
  const field = String(problem?.field || "");
  if (field === "slot_minutes") return "Длительность приёма должна делить час (5, 6, 10, 12, 15, 20, 30, 60 минут) или быть кратной 15 минутам (45, 75, 90 … 240).";
  if (field === "horizon_days") return "Запись вперёд — от 1 до 90 дней.";
  if (field.startsWith("hours")) {
    const m = /^hours\[(\d+)\]/.exec(field);
    return `Часы работы: ${m ? `период ${Number(m[1]) + 1} ` : ""}должен заканчиваться позже начала, вмещать целое число приёмов и не пересекаться с другим периодом того же дня.`;
  }
  if (FIELD_NAMES[field]) return `Проверьте поле «${FIELD_NAMES[field]}».`;
  return problem?.detail || "Настройки не сохранены.";
}

async function pageOfficeBooking(params) {
  const head = "<h1>Запись на приём: настройки офиса</h1>";
  const own = currentUser()?.office_id || "";
  const offices = (await api("/api/v1/offices")).data?.items || [];
  const office = params.get("office") || own || offices[0]?.id || "";
  const chooser = own ? "" : `<form class="filters" id="office-choice"><label>Офис<select name="office">${offices
    .map((o) => `<option value="${esc(o.id)}"${o.id === office ? " selected" : ""}>${esc(o.name)}</option>`).join("")}</select></label>
    <button type="submit">Открыть</button></form>`;
  if (!office) return head + nodata("офисов нет");
  const r = await api(`/api/v1/offices/${encodeURIComponent(office)}/booking`);
  if (r.missing) return head + chooser + nodata("такого офиса нет");
  if (r.error) return head + chooser + errorBox(r.error);
  const b = r.data;
  const edit = canEdit();
  const dis = edit ? "" : " disabled";
  const numbers = NUMBERS.map(([k, label, min, max]) => `<label>${esc(label)}<input type="number" name="${k}"
    min="${min}" max="${max}" required value="${esc(b[k])}"${dis}></label>`).join("");
  const days = WEEKDAYS.map((name, i) => `<tr><th scope="row">${esc(name)}</th><td><input name="day${i + 1}"
    aria-label="Часы работы: ${esc(name)}" placeholder="выходной" value="${esc(periodsText(b.hours || [], i + 1))}"${dis}></td></tr>`).join("");
  return `${head}${chooser}<p><b>${esc(b.name)}</b>: ${b.takes_appointments ? "запись на приём открыта" : "запись на приём ещё не открыта — сохраните настройки, чтобы открыть"}.</p>
    <form id="booking-form" data-office="${esc(b.office_id)}">
      <fieldset class="filters"><legend>Приём</legend>${numbers}</fieldset>
      <fieldset><legend>Часы работы (местное время; перерыв — два периода: «09:00-13:00, 14:00-18:00»)</legend>
        <table id="office-hours"><tbody>${days}</tbody></table></fieldset>
      <p id="booking-message" role="alert" hidden></p>
      ${edit ? '<button type="submit">Сохранить</button>' : "<p>Изменить настройки может руководитель офиса или администратор.</p>"}
      <p>Уже сделанные записи сохраняют своё время при любой новой длительности приёма.</p></form>
    ${desksBlock(b, edit)}`;
}

/* The office's desk terminals (sql/0033): a card tapped on one of them checks in the
 * holder's booking at this office; a tap on any other terminal waits for the desk. */
function desksBlock(b, edit) {
  const desks = b.desk_terminals || [];
  const list = desks.length ? `<ul id="desk-terminals">${desks.map((d) => `<li data-device="${esc(d.device_id)}"><code>${esc(d.device_id)}</code>
    <span class="muted">назначил ${esc(d.assigned_by)}</span>${edit ? ' <button type="button" class="remove-desk">Снять</button>' : ""}</li>`).join("")}</ul>`
    : "<p>Терминалы окон не назначены: приложенная карта не отмечает приход, пока терминал не назначен окном этого офиса.</p>";
  const form = edit ? `<form id="desk-form" class="filters" data-office="${esc(b.office_id)}">
      <label>Идентификатор терминала<input name="device" required pattern="[0-9a-fA-F-]{36}" size="38"></label>
      <button type="submit">Назначить окном</button></form><p id="desk-message" role="alert" hidden></p>` : "";
  return `<section id="desks"><h2>Терминалы окон</h2>${list}${form}</section>`;
}

function bindOfficeBooking(rerender) {
  document.getElementById("office-choice")?.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/office-booking?office=${encodeURIComponent(new FormData(e.target).get("office"))}`;
  });
  bindDesks(rerender);
  const form = document.getElementById("booking-form");
  if (!form || !canEdit()) return;
  const say = (text, error) => {
    const m = document.getElementById("booking-message");
    m.textContent = text;
    m.className = error ? "error" : "ok";
    m.hidden = !text;
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const body = Object.fromEntries(NUMBERS.map(([k]) => [k, Number(data.get(k))]));
    body.hours = [];
    for (let d = 1; d <= 7; d++) {
      const periods = parsePeriods(data.get(`day${d}`));
      if (!periods) return say(`Часы работы (${WEEKDAYS[d - 1]}): запишите как «09:00-13:00, 14:00-18:00».`, true);
      for (const p of periods) body.hours.push({ weekday: d, ...p });
    }
    const office = form.dataset.office;
    const res = await fetch(`/api/v1/offices/${encodeURIComponent(office)}/booking`, withSession({
      method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }));
    const answer = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (!res.ok) return say(res.status === 403 ? "Недостаточно прав для этого офиса." : refusalText(answer), true);
    await rerender();
    say("Настройки сохранены.", false);
  });
}

const DESK_REFUSALS = { 404: "Терминал с таким идентификатором не найден (или отозван).",
  409: "Этот терминал уже назначен окном другого офиса: сначала его снимают там.", 403: "Недостаточно прав для этого офиса." };

function bindDesks(rerender) {
  const form = document.getElementById("desk-form");
  if (!form) return;
  const office = form.dataset.office;
  const say = (text) => {
    const m = document.getElementById("desk-message");
    m.textContent = text;
    m.className = "error";
    m.hidden = !text;
  };
  const call = async (method, device) => {
    const res = await fetch(`/api/v1/offices/${encodeURIComponent(office)}/desk-terminals/${encodeURIComponent(device)}`,
      withSession({ method }));
    if (!res.ok) return say(DESK_REFUSALS[res.status] || "Не удалось сохранить.");
    return rerender();
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    call("PUT", String(new FormData(form).get("device") || "").trim().toLowerCase());
  });
  for (const li of document.querySelectorAll("#desk-terminals li"))
    li.querySelector("button.remove-desk")?.addEventListener("click", () => call("DELETE", li.dataset.device));
}

/* The pages of this module (pages.js lists them). */
export const pages = {
  "office-booking": { render: (params) => pageOfficeBooking(params), after: (rerender) => bindOfficeBooking(rerender) },
};
