/* One visit (its event timeline, the services as the terminal recorded them and as
 * corrected, the corrections history and the correction form) and the recipient's
 * monthly statement, the printable page a recipient or guardian is shown. Corrections
 * never change the signed events: each is a record of its own with who, when and why,
 * and the latest correction of a field wins (sql/0008_corrections.sql). */
import {
  REASON_NAMES, STATE_NAMES, api, canCorrect, dateTime, errorBox, esc, flags, localDate, minutes, monthName,
  monthParam, nodata, post, serviceList, short, who, levelText,
} from "./util.js";

const KIND_NAMES = {
  "visit.started": "Начало визита", "visit.ended": "Окончание визита", "visit.rated": "Оценка",
  "visit.cancelled": "Отмена", "visit.attempt": "Попытка визита", "card.unrecognized": "Неизвестная карта",
  "card.bound": "Привязка карты",
};

function eventLine(e) {
  const parts = [];
  if (e.card) parts.push(`карта ${esc(e.card.scheme || e.card.method)} •${esc(e.card.last4 || "")}`);
  if (e.services?.length) parts.push(`услуги: ${serviceList(e.services)}`);
  if (e.rating) parts.push(`оценка ${esc(e.rating)}${e.comment ? ` «${esc(e.comment)}»` : ""}`);
  if (e.reason) parts.push(`причина: ${esc(REASON_NAMES[e.reason] || e.reason)}`);
  if (e.location) parts.push(`место ±${esc(e.location.accuracy_m)} м`);
  return `<li><b>${esc(KIND_NAMES[e.kind] || e.kind)}</b> — ${dateTime(e.wall_ms)}
    <div class="muted">${parts.join("; ")}</div></li>`;
}

/* ==== Corrections ==== */

/* What a correction changed, as a sentence: "Услуги: было A×1, стало A×2". */
export function correctionText(c) {
  if (c.field === "disputed") return c.value ? "Визит оспорен" : "Спор снят";
  if (c.field === "services") return `Услуги: было ${serviceList(c.previous)}, стало ${serviceList(c.value)}`;
  return `${esc(c.field)}: было ${esc(JSON.stringify(c.previous))}, стало ${esc(JSON.stringify(c.value))}`;
}

export const correctionItem = (c) => `<li data-correction="${esc(c.id)}" data-field="${esc(c.field)}">
  <b>${correctionText(c)}</b><div>${dateTime(c.corrected_at)} — ${esc(c.corrected_by || "")}</div>
  <div class="muted">Причина: ${esc(c.reason || "—")}</div></li>`;

function badges(v) {
  return `${v.disputed ? '<span class="badge disputed">Оспорено</span>' : ""}${v.corrected ? '<span class="badge corrected">Исправлено</span>' : ""}`;
}

/* The services form, filled with the services in force; codes suggested from the
 * visit's own lists, any catalogue code may be typed. */
function correctionForms(v, services) {
  const codes = [...new Set([...(v.services || []), ...services].map((s) => s.code))];
  const row = (s) => `<tr><td><input name="code" list="service-codes" value="${esc(s.code)}" maxlength="32" required aria-label="Код услуги"></td>
    <td><input name="quantity" type="number" min="0" max="99" value="${esc(s.quantity ?? 1)}" required aria-label="Количество"></td></tr>`;
  return `<h2 class="noprint">Исправить</h2>
    <div class="correct-forms noprint">
    <form id="correct-services" class="reason-form">
      <b>Услуги</b> <span class="muted">(количество 0 — услуги не было)</span>
      <datalist id="service-codes">${codes.map((c) => `<option value="${esc(c)}"></option>`).join("")}</datalist>
      <table class="services-edit"><thead><tr><th>Код</th><th>Кол-во</th></tr></thead>
        <tbody>${(services.length ? services : [{ code: "", quantity: 1 }]).map(row).join("")}</tbody></table>
      <button type="button" class="plain" id="add-service">Добавить услугу</button>
      <label>Причина исправления<textarea name="reason" rows="2" maxlength="2000" required></textarea></label>
      <button type="submit">Сохранить исправление</button>
    </form>
    <form id="correct-dispute" class="reason-form" data-disputed="${v.disputed ? "true" : "false"}">
      <b>${v.disputed ? "Визит оспорен" : "Оспорить визит"}</b> <span class="muted">${v.disputed ? "" : "(не оплачивается, пока спор не снят)"}</span>
      <label>Причина<textarea name="reason" rows="2" maxlength="2000" required></textarea></label>
      <button type="submit">${v.disputed ? "Снять спор" : "Оспорить"}</button>
    </form>
    </div><p id="correction-message" class="error" role="alert" hidden></p>`;
}

export async function pageVisit(id) {
  const [r, corr] = await Promise.all([api(`/api/v1/visits/${encodeURIComponent(id)}`),
    api(`/api/v1/visits/${encodeURIComponent(id)}/corrections`)]);
  if (r.missing) return `<h1>Посещение</h1>${nodata("такого посещения нет")}`;
  if (r.error) return errorBox(r.error);
  const v = r.data;
  const corrections = corr.data?.items;
  const effective = v.effective_services || v.services || [];
  const history = corrections?.length
    ? `<ul class="timeline corrections" id="corrections">${corrections.map(correctionItem).join("")}</ul>`
    : nodata(corr.missing || !corrections ? "исправления пока не ведутся на этом сервере" : "исправлений нет");
  /* the statement's month is the visit's local month */
  const at = new Date(v.started_at || v.ended_at || Date.now());
  const month = `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, "0")}`;
  const recipient = v.recipient_id
    ? `<a id="recipient-link" href="#/statement/${esc(v.recipient_id)}?month=${esc(month)}" title="Выписка получателя за месяц">${who(v, "recipient")}</a>`
    : who(v, "recipient");
  const expected = v.effective_expected_minutes ?? v.expected_minutes;
  return `<h1>Посещение ${esc(short(v.id))} <span id="visit-badges">${badges(v)}</span></h1>
    <div class="cards"><div class="card">Состояние<b>${esc(STATE_NAMES[v.state] || v.state)}</b></div>
      <div class="card">Длительность<b>${minutes(v.duration_s)}</b></div>
      <div class="card">Норма<b>${esc(expected ?? "—")} мин</b></div>
      <div class="card">Оценка<b>${esc(v.rating ?? "—")}</b></div>
      <div class="card">Карта<b>${v.start_confirmed ? "✔" : "✘"} начало, ${v.end_confirmed ? "✔" : "✘"} конец</b></div>
      <div class="card" id="proof-levels">Подтверждение картой<b><span id="start-level">начало: ${esc(levelText(v.start_level, v.start_proof_failure))}</span><br>
        <span id="end-level">конец: ${esc(levelText(v.end_level, v.end_proof_failure))}</span></b></div></div>
    <p>Сотрудник: ${who(v, "worker")}; получатель: ${recipient}. ${flags(v.flags)}</p>
    <table class="services-compare" id="services"><tbody>
      <tr><th>Услуги по терминалу</th><td id="terminal-services">${serviceList(v.services)}</td></tr>
      <tr><th>Услуги с исправлениями</th><td id="effective-services">${serviceList(effective)}${v.effective_services && v.corrected ? ' <span class="badge corrected">исправлено</span>' : ""}</td></tr>
    </tbody></table>
    <h2>События</h2><ul class="timeline" id="timeline">${(v.events || []).map(eventLine).join("")}</ul>
    <h2>Исправления</h2>${history}
    ${canCorrect() && !corr.missing ? correctionForms(v, effective) : ""}`;
}

export function bindVisit(rerender) {
  const id = decodeURIComponent(location.hash.replace(/^#\/visit\//, "").split("?")[0]);
  const say = (text) => {
    const m = document.getElementById("correction-message");
    m.textContent = text;
    m.hidden = !text;
  };
  const send = async (field, value, reason) => {
    const r = await post(`/api/v1/visits/${encodeURIComponent(id)}/corrections`, { field, value, reason });
    if (r.error || r.missing) return say(r.error || "Исправления недоступны на этом сервере");
    rerender();
  };
  const services = document.getElementById("correct-services");
  document.getElementById("add-service")?.addEventListener("click", () => {
    const body = services.querySelector("tbody");
    const row = body.lastElementChild.cloneNode(true);
    row.querySelector("input[name=code]").value = "";
    row.querySelector("input[name=quantity]").value = "1";
    body.append(row);
    row.querySelector("input[name=code]").focus();
  });
  services?.addEventListener("submit", (e) => {
    e.preventDefault();
    const value = [...services.querySelectorAll("tbody tr")].map((tr) => ({
      code: tr.querySelector("input[name=code]").value.trim(),
      quantity: Number(tr.querySelector("input[name=quantity]").value),
    })).filter((s) => s.code && s.quantity > 0);
    send("services", value, String(new FormData(services).get("reason")).trim());
  });
  const dispute = document.getElementById("correct-dispute");
  dispute?.addEventListener("submit", (e) => {
    e.preventDefault();
    send("disputed", dispute.dataset.disputed !== "true", String(new FormData(dispute).get("reason")).trim());
  });
}

/* ==== The recipient's statement ==== */

const confirmedBy = (ok, by) => (!ok ? "нет" : by === "guardian" ? "да, картой представителя" : "да");
/* Named services in words: "Покупка продуктов × 2". */
const namedServices = (list) => (list?.length
  ? list.map((s) => `${esc(s.name || s.code)}${(s.quantity ?? 1) !== 1 ? ` × ${esc(s.quantity)}` : ""}`).join(", ") : "нет");

function statementCorrection(c) {
  const what = c.field === "disputed" ? (c.to ? "визит оспорен" : "спор снят")
    : `услуги: было ${namedServices(c.from)}, стало ${namedServices(c.to)}`;
  return `<div class="statement-correction">Исправление от ${dateTime(c.corrected_at)} (${esc(c.corrected_by || "")}):
    ${what}. Причина: «${esc(c.reason || "—")}»</div>`;
}

function statementVisit(v) {
  const when = v.start_time || v.end_time ? `${esc(v.start_time || "—")}–${esc(v.end_time || "—")}` : "—";
  const state = v.state === "cancelled" || v.state === "attempted"
    ? ` <span class="badge disputed">${esc(STATE_NAMES[v.state])}${v.reason ? `: ${esc(REASON_NAMES[v.reason] || v.reason)}` : ""}</span>` : "";
  return `<tr data-visit="${esc(v.id)}"><td>${localDate(v.date)}</td><td>${when}</td><td>${esc(v.worker_name || "")}</td>
    <td>${namedServices(v.services)}${state}${v.disputed ? ' <span class="badge disputed">оспорено</span>' : ""}
      ${(v.corrections || []).map(statementCorrection).join("")}</td>
    <td class="num">${v.duration_minutes != null ? `${esc(v.duration_minutes)} мин` : "—"}</td>
    <td>начало: ${confirmedBy(v.start_confirmed, v.start_confirmed_by)}<br>окончание: ${confirmedBy(v.end_confirmed, v.end_confirmed_by)}</td>
    <td class="num">${esc(v.rating ?? "—")}</td></tr>`;
}

export async function pageStatement(params, recipientId) {
  const month = monthParam(params);
  const r = await api(`/api/v1/recipients/${encodeURIComponent(recipientId)}/statement?${new URLSearchParams({ month })}`);
  const picker = `<form class="filters noprint" id="statement-month"><label>Месяц<input type="month" name="month" value="${esc(month)}"></label>
    <button type="submit">Показать</button> <button type="button" class="plain" id="print">Напечатать</button></form>`;
  if (r.missing) return `<h1>Выписка получателя</h1>${picker}${nodata("выписка получателя ещё не подключена на этом сервере (или получатель не найден)")}`;
  if (r.error) return `<h1>Выписка получателя</h1>${picker}${errorBox(r.error)}`;
  const s = r.data;
  const visits = s.visits || [];
  return `<article class="statement" id="statement">
    <h1>Выписка об оказанных услугах</h1>
    <p class="statement-who">Получатель: <b id="statement-recipient">${esc(s.recipient?.full_name || short(recipientId))}</b>
      ${s.recipient?.guardian_name ? `<br>Представитель: <b>${esc(s.recipient.guardian_name)}</b>` : ""}
      <br>Социальная служба: <b>${esc(s.provider?.name || "—")}</b>
      <br>Месяц: <b>${esc(monthName(s.month || month))}</b></p>
    ${picker}
    ${visits.length ? `<table id="statement-visits"><thead><tr><th>Дата</th><th>Время</th><th>Сотрудник</th><th>Услуги</th>
      <th class="num">Длительность</th><th>Подтверждено картой</th><th class="num">Оценка</th></tr></thead>
      <tbody>${visits.map(statementVisit).join("")}</tbody></table>
      <p class="statement-total">Всего посещений: <b>${esc(s.totals?.visits ?? visits.length)}</b>${s.totals?.minutes != null
        ? `, общее время: <b>${esc(s.totals.minutes)} мин</b>` : ""}</p>`
    : nodata("за этот месяц посещений нет")}
    <p class="muted">Время указано по часовому поясу ${esc(s.timezone || "региона")}. Если здесь что-то указано неверно,
      сообщите в свою социальную службу или в департамент: визит можно оспорить, и он не будет оплачен, пока спор не решён.</p></article>`;
}

export function bindStatement() {
  document.getElementById("print")?.addEventListener("click", () => window.print());
  document.getElementById("statement-month")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const [path] = location.hash.split("?");
    location.hash = `${path}?month=${encodeURIComponent(new FormData(e.target).get("month"))}`;
  });
}

/* The pages of this module (pages.js lists them); both belong to the visits tab. */
export const pages = {
  visit: { render: (params, id) => pageVisit(id), after: (rerender) => bindVisit(rerender), tab: "visits" },
  statement: { render: pageStatement, after: bindStatement, tab: "visits" },
};
