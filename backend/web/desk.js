/* The desk's day (issue 16): an office's appointments of one day by time and window, each
 * with its state and how the person was checked in (their card at the office's desk
 * terminal — proof — or the desk's word for a person booked by phone: passport, the last
 * 4 digits of a document, known to staff); the live waiting time of those checked in; the
 * day's figures (waiting median and p90, the share waiting 15 minutes or less — of all,
 * and of the card check-ins alone —, service median and p90, the share served in 5-10
 * minutes); and the actions of the desk: check in, call in, served, left unserved with a
 * reason. Card taps that checked nobody in (a terminal that is no desk of the office, a
 * card no booking knows) wait here for the desk's decision. The server checks every rule
 * (sql/0021 appointment_move, sql/0033); this page only asks. */
import { api, errorBox, esc, minutes, nodata, percent, post, time } from "./util.js";
import { currentUser } from "./session.js";

export const APPOINTMENT_STATES = {
  booked: "записан", checked_in: "пришёл, ждёт", in_service: "на приёме", served: "обслужен",
  left_unserved: "ушёл без обслуживания", no_show: "не пришёл", cancelled: "отменена",
  rescheduled: "перенесена", held: "бронь",
};
export const CHECK_IN_METHODS = {
  card: "картой", passport: "по паспорту", document_digits: "по документу",
  known_to_staff: "знаком сотруднику",
};
const EXCEPTION_REASONS = {
  not_desk: "карта приложена к терминалу, который не назначен окном этого офиса",
  no_appointment: "карта приложена у окна, записи на это время не найдено",
};
const canAct = () => ["intake", "intake_lead", "admin"].includes(currentUser()?.role);

/* Today as YYYY-MM-DD, the desk's local day (the page may choose another). */
function today() {
  return new Date().toLocaleDateString("sv-SE"); /* the browser's day: the desk's own */
}

const checkInText = (a) => {
  if (!a.checked_in_at) return "—";
  const how = CHECK_IN_METHODS[a.check_in_method] || "кнопкой (до учёта способа)";
  const digits = a.check_in_document_digits ? ` …${esc(a.check_in_document_digits)}` : "";
  const by = a.check_in_by ? `, ${esc(a.check_in_by)}` : "";
  return `<span class="arrival ${esc(a.check_in_method || "unrecorded")}">${time(a.checked_in_at)} ${esc(how)}${digits}${by}</span>`;
};

/* The waiting time: live while the person waits, fixed once called in. */
const waitingCell = (a) => {
  if (!a.checked_in_at) return "—";
  if (a.state === "checked_in")
    return `<span class="elapsed waiting" data-started="${esc(a.checked_in_at)}">${minutes((Date.now() - Date.parse(a.checked_in_at)) / 1000)}</span>`;
  if (a.service_started_at)
    return minutes((Date.parse(a.service_started_at) - Date.parse(a.checked_in_at)) / 1000);
  return "—";
};

const actions = (a) => {
  if (!canAct()) return "";
  if (a.state === "booked")
    return '<button type="button" class="check-in">Отметить приход</button>';
  if (a.state === "checked_in")
    return '<button type="button" class="call-in">Пригласить</button> <button type="button" class="left">Ушёл без обслуживания</button>';
  if (a.state === "in_service")
    return '<button type="button" class="served">Обслужен</button> <button type="button" class="left">Ушёл без обслуживания</button>';
  return "";
};

const row = (a) => `<tr data-appointment="${esc(a.id)}" data-state="${esc(a.state)}">
  <td>${time(a.start)}–${time(a.end)}</td><td class="seat">${esc(a.seat)}</td>
  <td class="person">${esc(a.person_name || "—")}${a.phone ? `<br><span class="muted">${esc(a.phone)}</span>` : ""}</td>
  <td class="state">${esc(APPOINTMENT_STATES[a.state] || a.state)}${a.reason ? `<br><span class="muted">${esc(a.reason)}</span>` : ""}</td>
  <td class="checked-in">${checkInText(a)}</td><td class="waiting-time">${waitingCell(a)}</td>
  <td>${actions(a)}</td></tr>`;

const exceptionRow = (x) => `<li data-exception="${esc(x.id)}" data-reason="${esc(x.reason)}">
  ${time(x.tapped_at)}: ${esc(EXCEPTION_REASONS[x.reason] || x.reason)}${x.person_name ? ` — ${esc(x.person_name)}, запись на ${time(x.start)}` : ""}
  <span class="muted">(терминал ${esc(String(x.device_id).slice(0, 8))})</span>
  ${x.resolution ? ` — <b>${x.resolution === "accepted" ? "принято" : "отклонено"}</b> (${esc(x.resolved_by)})`
    : canAct() ? `${x.reason === "not_desk" ? ' <button type="button" class="accept">Принять как приход</button>' : ""} <button type="button" class="dismiss">Отклонить</button>` : ""}</li>`;

function figuresBlock(f) {
  if (!f) return "";
  const by = f.checked_in_by || {};
  return `<section id="desk-figures">
    <p><b>${esc(f.booked)}</b> записей · обслужено <b class="served-count">${esc(f.served)}</b> · ушли без обслуживания ${esc(f.left_unserved)} · не пришли ${esc(f.no_show)} · отменено ${esc(f.cancelled)}</p>
    <p>Ожидание: медиана <b class="waiting-p50">${minutes(f.waiting_p50_s)}</b>, 90 % — ${minutes(f.waiting_p90_s)};
      не дольше 15 минут — <b class="waiting-share">${percent(f.waiting_within_15min_share)}</b>
      (по отметке картой — ${percent(f.waiting_card_within_15min_share)}, ${esc(f.waited_card ?? 0)} чел.)</p>
    <p>Обслуживание: медиана <b>${minutes(f.service_p50_s)}</b>, 90 % — ${minutes(f.service_p90_s)};
      за 5–10 минут — <b class="service-share">${percent(f.service_5_10min_share)}</b></p>
    <p>Приход отмечен: картой <b class="by-card">${esc(f.checked_in_card ?? 0)}</b>, сотрудником
      <b class="by-staff">${esc(f.checked_in_staff ?? 0)}</b> (паспорт ${esc(by.passport ?? 0)}, документ ${esc(by.document_digits ?? 0)},
      знаком ${esc(by.known_to_staff ?? 0)}). Отметка картой — подтверждение прихода; отметка сотрудником — нет.</p></section>`;
}

async function pageDeskDay(params) {
  const head = "<h1>Приём: день офиса</h1>";
  const own = currentUser()?.office_id || "";
  const offices = (await api("/api/v1/offices")).data?.items || [];
  const office = params.get("office") || own || offices[0]?.id || "";
  const day = params.get("date") || today();
  const chooser = `<form class="filters noprint" id="desk-choice">${own ? `<input type="hidden" name="office" value="${esc(own)}">` : `<label>Офис<select name="office">${offices
    .map((o) => `<option value="${esc(o.id)}"${o.id === office ? " selected" : ""}>${esc(o.name)}</option>`).join("")}</select></label>`}
    <label>День<input type="date" name="date" value="${esc(day)}"></label><button type="submit">Показать</button></form>`;
  if (!office) return head + nodata("офисов нет");
  const base = `/api/v1/offices/${encodeURIComponent(office)}/appointments`;
  const [r, f] = await Promise.all([api(`${base}?date=${day}`), api(`${base}/figures?date=${day}`)]);
  if (r.missing) return head + chooser + nodata("этот офис не ведёт запись на приём");
  if (r.error) return head + chooser + errorBox(r.error);
  const items = r.data.items || [];
  const open = (r.data.exceptions || []);
  const exceptions = open.length ? `<section id="desk-exceptions"><h2>Приложенные карты без отметки прихода</h2>
    <ul>${open.map(exceptionRow).join("")}</ul></section>` : "";
  const form = `<form id="check-in-form" class="reason-form noprint" hidden>
      <p>Отметить приход: <b id="check-in-who"></b></p>
      <label>Как установлена личность<select name="identified_by">
        <option value="passport">предъявлен паспорт</option>
        <option value="document_digits">последние 4 цифры номера документа</option>
        <option value="known_to_staff">знаком сотруднику</option></select></label>
      <label>Последние 4 цифры документа<input name="document_digits" inputmode="numeric" maxlength="4" pattern="[0-9]{4}"></label>
      <button type="submit">Отметить</button> <button type="button" id="check-in-cancel">Отмена</button></form>
    <form id="left-form" class="reason-form noprint" hidden>
      <p>Ушёл без обслуживания: <b id="left-who"></b></p>
      <label>Причина<input name="reason" maxlength="1000" required></label>
      <button type="submit">Сохранить</button> <button type="button" id="left-cancel">Отмена</button></form>
    <p id="desk-message" class="error" role="alert" hidden></p>`;
  const table = items.length ? `<table id="desk-day"><thead><tr><th>Время</th><th>Окно</th><th>Кто</th><th>Состояние</th>
    <th>Приход</th><th>Ожидание</th><th></th></tr></thead><tbody>${items.map(row).join("")}</tbody></table>`
    : nodata("записей на этот день нет");
  return `${head}${chooser}${figuresBlock(f.data)}${exceptions}${form}${table}`;
}

function bindDeskDay(rerender) {
  document.getElementById("desk-choice")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(e.target);
    location.hash = `#/desk-day?office=${encodeURIComponent(data.get("office") || "")}&date=${encodeURIComponent(data.get("date") || "")}`;
  });
  const say = (text) => {
    const m = document.getElementById("desk-message");
    if (!m) return;
    m.textContent = text;
    m.hidden = !text;
  };
  const move = async (id, body) => {
    const r = await post(`/api/v1/appointments/${encodeURIComponent(id)}/transitions`, body);
    if (r.error || r.missing) return say(r.error || "Запись не найдена");
    return rerender();
  };
  const checkIn = document.getElementById("check-in-form");
  const left = document.getElementById("left-form");
  let target = null;
  for (const tr of document.querySelectorAll("#desk-day tbody tr")) {
    const id = tr.dataset.appointment;
    const who = tr.querySelector(".person").textContent;
    tr.querySelector("button.check-in")?.addEventListener("click", () => {
      target = id;
      document.getElementById("check-in-who").textContent = who;
      left.hidden = true;
      checkIn.hidden = false;
      checkIn.querySelector("select").focus();
    });
    tr.querySelector("button.call-in")?.addEventListener("click", () => move(id, { to: "in_service" }));
    tr.querySelector("button.served")?.addEventListener("click", () => move(id, { to: "served" }));
    tr.querySelector("button.left")?.addEventListener("click", () => {
      target = id;
      document.getElementById("left-who").textContent = who;
      checkIn.hidden = true;
      left.hidden = false;
      left.querySelector("input").focus();
    });
  }
  checkIn?.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(checkIn);
    const body = { to: "checked_in", identified_by: String(data.get("identified_by")) };
    if (body.identified_by === "document_digits") {
      const digits = String(data.get("document_digits") || "").trim();
      if (!/^[0-9]{4}$/.test(digits)) return say("Введите последние 4 цифры номера документа");
      body.document_digits = digits;
    }
    return move(target, body);
  });
  left?.addEventListener("submit", (e) => {
    e.preventDefault();
    const reason = String(new FormData(left).get("reason") || "").trim();
    if (!reason) return say("Укажите причину");
    return move(target, { to: "left_unserved", reason });
  });
  document.getElementById("check-in-cancel")?.addEventListener("click", () => { checkIn.hidden = true; });
  document.getElementById("left-cancel")?.addEventListener("click", () => { left.hidden = true; });
  for (const li of document.querySelectorAll("#desk-exceptions li")) {
    const decide = async (resolution) => {
      const r = await post(`/api/v1/check-in-exceptions/${encodeURIComponent(li.dataset.exception)}/resolve`, { resolution });
      if (r.error || r.missing) return say(r.error || "Не найдено");
      return rerender();
    };
    li.querySelector("button.accept")?.addEventListener("click", () => decide("accepted"));
    li.querySelector("button.dismiss")?.addEventListener("click", () => decide("dismissed"));
  }
}

/* The pages of this module (pages.js lists them). */
export const pages = {
  "desk-day": { render: (params) => pageDeskDay(params), after: (rerender) => bindDeskDay(rerender) },
};
