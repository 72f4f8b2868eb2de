/* The applications pages (issue 15): the journal of applications for the front and back
 * office (search by state, completeness, purpose, office, overdue, number), one
 * application with its journal and the transitions the signed-in role may make (the
 * server names them: a return, a refusal and a withdrawal ask for a reason typed in the
 * page), the caseworker's approval form (the programme: provider, services with volumes,
 * term, plan rules), the application's documents (attach a PDF, JPEG or PNG, download,
 * remove while it is formed) with the link to its printable form, its exchange with the
 * region's central system (the back office's exports and the answers), the provider's
 * programmes to accept, and the funnel per office and month with the days from filing to
 * the first card-confirmed visit. */
import { api, dateTime, errorBox, esc, localDate, nodata, post, role, short } from "./util.js";

export const APPLICATION_STATES = {
  draft: "формирование", submitted: "передано", returned: "возвращено на доработку",
  resubmitted: "передано повторно", verified: "проверено", assessment: "на рассмотрении",
  approved: "одобрено", refused: "отказано", withdrawn: "отозвано",
  exported: "выгружено", answer_received: "получен ответ",
};
export const PURPOSES = {
  home_care: "обслуживание на дому", rehab_aid: "прокат средств реабилитации", rehab_course: "курс реабилитации",
  day_centre: "дневное пребывание", palliative: "паллиативная помощь", other: "другое",
};
const CATEGORIES = { elderly: "пожилой гражданин", disabled: "инвалид", disabled_child: "ребёнок-инвалид", family: "семья", other: "другое" };
const CHANNELS = { web: "сайт", office: "приём в офисе", phone: "телефон", post: "почта", terminal: "выездная бригада" };
const ROLES = { applicant: "заявитель", intake: "приём", intake_lead: "проверка", caseworker: "департамент", admin: "администратор" };
/* The label of each button; the server says which the role may press. */
const ACTIONS = {
  submitted: "Передать", verified: "Проверено — передать в департамент", resubmitted: "Передать повторно",
  assessment: "Взять на рассмотрение", approved: "Одобрить и назначить программу", returned: "Вернуть на доработку",
  refused: "Отказать", withdrawn: "Отозвать заявление",
};
const WEEKDAYS = ["Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"];

const stateBadge = (s) => `<span class="state ${esc(s)}">${esc(APPLICATION_STATES[s] || s)}</span>`;
const options = (names, selected) => Object.entries(names)
  .map(([k, v]) => `<option value="${esc(k)}"${k === selected ? " selected" : ""}>${esc(v)}</option>`).join("");

/* ==== Documents ==== */

const DOCUMENT_KINDS = {
  passport: "паспорт", snils: "СНИЛС", medical: "медицинское заключение", income: "сведения о доходах",
  statement: "заявление", other: "иной документ",
};
const DOCUMENT_WRITERS = ["intake", "intake_lead", "caseworker", "admin"];
const DOCUMENT_TYPES = ["application/pdf", "image/jpeg", "image/png"];
const DOCUMENT_BYTES_MAX = 10 * 1024 * 1024;
const sizeText = (n) => n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} МБ` : `${Math.max(1, Math.round(n / 1024))} КБ`;

/* The documents panel: the list (each a download), removal while the application is formed
 * (draft or returned), attaching a file while it is not decided, the printable form. */
function documentsPanel(a, docs) {
  const base = `/api/v1/applications/${encodeURIComponent(a.id)}`;
  const writer = DOCUMENT_WRITERS.includes(role());
  const removable = writer && (a.state === "draft" || a.state === "returned");
  const open = writer && !["approved", "refused", "withdrawn"].includes(a.state);
  const rows = docs.map((d) => `<tr data-document="${esc(d.id)}">
    <td>${esc(DOCUMENT_KINDS[d.kind] || d.kind)}</td>
    <td><a class="download" href="${base}/documents/${encodeURIComponent(d.id)}" download="${esc(d.file_name)}">${esc(d.file_name)}</a></td>
    <td class="num">${sizeText(d.size)}</td><td>${esc(d.uploaded_by)}, ${dateTime(d.uploaded_at)}</td>
    <td>${removable ? '<button type="button" class="plain remove-document">Удалить</button>' : ""}</td></tr>`).join("");
  return `<h2>Документы</h2>
    <p><a id="application-print" href="${base}/form" target="_blank" rel="noopener">Печать заявления</a></p>
    ${docs.length ? `<table id="documents"><thead><tr><th>Вид</th><th>Файл</th><th>Размер</th><th>Приложил</th><th></th></tr></thead>
      <tbody>${rows}</tbody></table>` : '<p id="documents" class="muted">Документы не приложены.</p>'}
    ${open ? `<form id="document-form" class="document-form" novalidate>
      <label>Вид документа<select name="kind">${options(DOCUMENT_KINDS, "passport")}</select></label>
      <label>Файл (PDF, JPEG или PNG, до 10 МБ)<input type="file" name="file" accept="${DOCUMENT_TYPES.join(",")}"></label>
      <button type="submit">Приложить</button></form>` : ""}
    <p id="document-message" class="error" role="alert" hidden></p>`;
}

function bindDocuments(id, rerender) {
  const say = (text) => {
    const m = document.getElementById("document-message");
    if (!m) return;
    m.textContent = text;
    m.hidden = !text;
  };
  const base = `/api/v1/applications/${encodeURIComponent(id)}/documents`;
  const form = document.getElementById("document-form");
  form?.addEventListener("submit", async (e) => {
    e.preventDefault();
    say("");
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) return say("Выберите файл");
    if (!DOCUMENT_TYPES.includes(file.type)) return say("Документ принимается только в формате PDF, JPEG или PNG");
    if (file.size > DOCUMENT_BYTES_MAX) return say("Файл больше 10 МБ");
    const query = new URLSearchParams({ kind: form.querySelector("select").value, name: file.name });
    const r = await api(`${base}?${query}`, { method: "POST", headers: { "Content-Type": file.type }, body: file });
    if (r.missing) return say("Заявление не найдено");
    if (r.error) return say(r.error);
    rerender();
  });
  for (const button of document.querySelectorAll("#documents .remove-document")) {
    button.addEventListener("click", async () => {
      const doc = button.closest("tr").dataset.document;
      const r = await api(`${base}/${encodeURIComponent(doc)}`, { method: "DELETE" });
      if (r.error) return say(r.error);
      rerender();
    });
  }
}

/* ==== The journal ==== */

/* The back office's exports of decisions to the region's central system (issue 20): the
 * button and the last exports, each with its document and how many were answered. */
async function exportsBox() {
  if (role() !== "caseworker") return "";
  const r = await api("/api/v1/application-exports");
  const rows = (r.data?.items || []).slice(0, 5).map((e) => `<tr data-export="${esc(e.id)}">
    <td>${dateTime(e.created_at)}</td><td>${esc(e.created_by)}</td><td class="num">${esc(e.application_count)}</td>
    <td class="num">${esc(e.answered_count)}</td>
    <td><a href="/api/v1/application-exports/${esc(e.id)}" download="vygruzka-${esc(short(e.id))}.json">документ</a></td></tr>`).join("");
  return `<section id="exports"><h2>Выгрузка решений в региональную систему</h2>
    <p><button type="button" id="export-now">Выгрузить новые решения</button> <span id="export-message" role="status"></span></p>
    ${rows ? `<table><thead><tr><th>Когда</th><th>Кто</th><th class="num">Заявлений</th><th class="num">С ответом</th><th></th></tr></thead>
    <tbody>${rows}</tbody></table>` : ""}</section>`;
}

async function pageJournal(params) {
  const head = `<h1>Журнал заявлений</h1>${FILERS.includes(role()) ? '<p><a id="new-application" href="#/application-new">Новое заявление</a></p>' : ""}
    <p><a id="open-funnel" href="#/applications-funnel">Воронка заявлений и дни до первого посещения</a></p>${await exportsBox()}`;
  const offices = (await api("/api/v1/offices")).data?.items || [];
  const query = new URLSearchParams();
  for (const k of ["state", "purpose", "complete", "office", "overdue", "number"]) if (params.get(k)) query.set(k, params.get(k));
  const r = await api(`/api/v1/applications?${query}`);
  const filters = `<form class="filters" id="journal-filters">
    <label>Номер<input name="number" value="${esc(params.get("number") || "")}" inputmode="numeric" pattern="[0-9-]*"></label>
    <label>Состояние<select name="state"><option value="">все</option>${options(APPLICATION_STATES, params.get("state"))}</select></label>
    <label>Цель<select name="purpose"><option value="">все</option>${options(PURPOSES, params.get("purpose"))}</select></label>
    <label>Комплект документов<select name="complete"><option value="">все</option>${options({ true: "полный", false: "неполный" }, params.get("complete"))}</select></label>
    <label>Офис<select name="office"><option value="">все</option>${options(Object.fromEntries(offices.map((o) => [o.id, o.name])), params.get("office"))}</select></label>
    <label class="check"><span><input type="checkbox" name="overdue" value="true"${params.get("overdue") ? " checked" : ""}> просрочено</span></label>
    <button type="submit">Найти</button></form>`;
  if (r.missing) return head + filters + nodata("журнал заявлений не подключён на этом сервере");
  if (r.error) return head + filters + errorBox(r.error);
  const items = r.data.items;
  if (!items.length) return head + filters + nodata("заявлений не найдено");
  const rows = items.map((a) => `<tr data-application="${esc(a.id)}" data-state="${esc(a.state)}">
    <td><a class="open" href="#/application/${esc(a.id)}">${esc(a.number)}</a></td><td>${stateBadge(a.state)}</td>
    <td>${esc(a.applicant_name)}</td><td>${esc(PURPOSES[a.purpose] || a.purpose)}</td><td>${esc(a.office?.name)}</td>
    <td>${a.complete ? "полный" : "неполный"}</td>
    <td>${localDate(a.decision_due)}${a.overdue ? ' <span class="flag">просрочено</span>' : ""}</td>
    <td class="num">${esc(a.returns)}</td></tr>`).join("");
  return `${head}${filters}<table id="applications"><thead><tr><th>Номер</th><th>Состояние</th><th>Заявитель</th>
    <th>Цель</th><th>Офис</th><th>Документы</th><th>Решение до</th><th class="num">Возвратов</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function bindJournal(rerender) {
  document.getElementById("export-now")?.addEventListener("click", async () => {
    const say = document.getElementById("export-message");
    const r = await post("/api/v1/application-exports", {});
    if (r.problem?.type?.endsWith("/nothing-to-export")) return (say.textContent = "Новых решений для выгрузки нет");
    if (r.error || r.missing) return (say.textContent = r.error || "Выгрузка недоступна на этом сервере");
    rerender();
  });
  document.getElementById("journal-filters")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const query = new URLSearchParams();
    for (const [k, v] of new FormData(e.target)) if (v) query.set(k, v);
    location.hash = `#/applications?${query}`;
  });
}

/* ==== Taking an application in at the office ==== */

const FILERS = ["intake", "intake_lead"];

function pageNew() {
  const head = "<h1>Новое заявление</h1>";
  if (!FILERS.includes(role())) return head + nodata("заявления принимают сотрудники приёма");
  const field = (name, label, extra = "") => `<label>${label}<input name="${name}" ${extra}></label>`;
  return `${head}<form id="intake-form" class="reason-form" novalidate>
    ${field("applicant_name", "ФИО заявителя", 'required maxlength="200" autocomplete="off"')}
    ${field("applicant_birth_date", "Дата рождения", 'type="date" required')}
    ${field("applicant_phone", "Телефон", 'type="tel" maxlength="40"')}
    ${field("applicant_address", "Адрес, где нужны услуги", 'required maxlength="300"')}
    ${field("representative_name", "Представитель (если есть)", 'maxlength="200"')}
    ${field("representative_relation", "Кем приходится", 'maxlength="100"')}
    <label>Способ подачи<select name="channel">${options({ office: CHANNELS.office, phone: CHANNELS.phone, post: CHANNELS.post }, "office")}</select></label>
    <label>Категория<select name="category">${options(CATEGORIES, "elderly")}</select></label>
    <label>Цель<select name="purpose">${options(PURPOSES, "home_care")}</select></label>
    <label>Что нужно<textarea name="details" rows="3" maxlength="2000"></textarea></label>
    <label class="check"><span><input type="checkbox" name="complete"> Комплект документов полный</span></label>
    <label class="check"><span><input type="checkbox" name="consent"> Заявитель согласен на обработку персональных данных</span></label>
    <p id="intake-message" class="error" role="alert" hidden></p>
    <button type="submit">Принять заявление</button></form>`;
}

function bindNew() {
  const form = document.getElementById("intake-form");
  if (!form) return;
  form.querySelector("input").focus();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const say = (text) => {
      const m = document.getElementById("intake-message");
      m.textContent = text;
      m.hidden = !text;
    };
    const data = new FormData(form);
    const body = { complete: data.get("complete") === "on", consent: data.get("consent") === "on" };
    for (const k of ["applicant_name", "applicant_birth_date", "applicant_phone", "applicant_address", "representative_name",
      "representative_relation", "channel", "category", "purpose", "details"]) body[k] = String(data.get(k) || "").trim();
    if (!body.consent) return say("Без согласия на обработку персональных данных заявление не принимается");
    const r = await post("/api/v1/applications", body);
    if (r.error || r.missing) return say(r.error || "Приём заявлений недоступен на этом сервере");
    /* the code is shown this once: the applicant follows the application with it */
    const a = r.data.application;
    document.getElementById("main").innerHTML = `<h1>Заявление ${esc(a.number)} принято</h1>
      <p class="cards"><span class="card">Номер<b id="filed-number">${esc(a.number)}</b></span>
      <span class="card">Код для проверки статуса<b id="filed-code">${esc(r.data.code)}</b></span></p>
      <p>Передайте номер и код заявителю: код показывается один раз.</p>
      <p><a id="filed-open" href="#/application/${esc(a.id)}">Открыть заявление</a></p>`;
  });
}

/* ==== One application ==== */

const journalRow = (j) => `<li data-to="${esc(j.to)}"><b>${stateBadge(j.to)}</b> ${dateTime(j.at)},
  ${esc(j.actor)} (${esc(ROLES[j.role] || j.role)})${j.reason ? `: <span class="reason">«${esc(j.reason)}»</span>` : ""}</li>`;

function programmeBox(p, a) {
  if (!p) return "";
  return `<h2>Индивидуальная программа</h2><div class="cards" id="programme" data-programme="${esc(p.id)}">
    <div class="card">Срок<b>${localDate(p.valid_from)} — ${localDate(p.valid_to)}</b></div>
    <div class="card">Получатель услуг<b id="programme-recipient">${esc(short(a.recipient_id))}</b></div>
    <div class="card">Сертификат<b id="programme-certificate">${esc(a.number)}</b></div>
    <div class="card">Поставщик<b>${p.accepted_at ? `принял ${dateTime(p.accepted_at)}` : "ещё не принял"}</b></div></div>
    ${p.renewal_due ? '<p class="flag" id="renewal-due">Срок программы истекает: пора продлить</p>' : ""}`;
}

async function pageApplication(id) {
  const back = '<p><a href="#/applications">← журнал заявлений</a></p>';
  const r = await api(`/api/v1/applications/${encodeURIComponent(id)}`);
  if (r.missing) return `<h1>Заявление</h1>${back}${nodata("такого заявления нет")}`;
  if (r.error) return `<h1>Заявление</h1>${back}${errorBox(r.error)}`;
  const { application: a, journal, transitions } = r.data;
  const docs = (await api(`/api/v1/applications/${encodeURIComponent(id)}/documents`)).data?.items || [];
  const buttons = (transitions || []).map((t) =>
    `<button type="button" class="${t.to === "withdrawn" || t.to === "refused" || t.to === "returned" ? "plain" : ""}"
      data-to="${esc(t.to)}" data-reason="${t.reason_required ? "1" : ""}">${esc(ACTIONS[t.to] || t.to)}</button>`).join(" ");
  return `<h1>Заявление ${esc(a.number)} ${stateBadge(a.state)}</h1>${back}
    <div id="application" data-id="${esc(a.id)}" data-state="${esc(a.state)}">
    <table class="services-compare"><tbody>
      <tr><th>Заявитель</th><td>${esc(a.applicant_name)}, ${localDate(a.applicant_birth_date)}</td></tr>
      <tr><th>Адрес</th><td>${esc(a.applicant_address)}</td></tr>
      <tr><th>Телефон</th><td>${esc(a.applicant_phone || "—")}</td></tr>
      ${a.representative_name ? `<tr><th>Представитель</th><td>${esc(a.representative_name)} (${esc(a.representative_relation)})</td></tr>` : ""}
      <tr><th>Категория</th><td>${esc(CATEGORIES[a.category] || a.category)}</td></tr>
      <tr><th>Цель</th><td>${esc(PURPOSES[a.purpose] || a.purpose)}</td></tr>
      <tr><th>Что нужно</th><td>${esc(a.details || "—")}</td></tr>
      <tr><th>Офис, способ подачи</th><td>${esc(a.office?.name)}, ${esc(CHANNELS[a.channel] || a.channel)}</td></tr>
      <tr><th>Комплект документов</th><td>${a.complete ? "полный" : "неполный"}</td></tr>
      <tr><th>Решение до</th><td>${localDate(a.decision_due)}${a.overdue ? ' <span class="flag">просрочено</span>' : ""}</td></tr>
      ${a.programme_due ? `<tr><th>Программа до</th><td>${localDate(a.programme_due)}</td></tr>` : ""}
      ${a.reason ? `<tr><th>Причина</th><td id="application-reason">${esc(a.reason)}</td></tr>` : ""}
      ${a.exchange ? `<tr><th>Региональная система</th><td id="application-exchange" data-exchange="${esc(a.exchange.state)}">${exchangeText(a.exchange)}</td></tr>` : ""}
    </tbody></table></div>
    ${a.exchange?.state === "exported" && ["caseworker", "admin"].includes(role()) ? answerForm() : ""}
    ${programmeBox(a.programme, a)}
    <p class="actions" id="application-actions">${buttons}</p>
    <p id="application-message" class="error" role="alert" hidden></p>
    <form id="reason-form" class="reason-form" novalidate hidden>
      <label>Причина (её прочтёт заявитель)<textarea name="reason" rows="3" maxlength="1000" required></textarea></label>
      <span class="actions"><button type="submit">Подтвердить</button> <button type="button" class="plain" id="reason-cancel">Отмена</button></span>
    </form>
    <div id="approval"></div>
    ${documentsPanel(a, docs)}
    <h2>Журнал</h2><ol class="timeline" id="application-journal">${journal.map(journalRow).join("")}</ol>`;
}

const OUTCOMES = { accepted: "принято", rejected: "отклонено" };
function exchangeText(x) {
  const sent = `выгружено ${dateTime(x.exported_at)}`;
  if (!x.answer) return `${sent}, ответа ещё нет`;
  const a = x.answer;
  return `${sent}; ответ ${dateTime(a.answered_at)}: <b>${esc(OUTCOMES[a.outcome] || a.outcome)}</b>${a.reference ? `, № ${esc(a.reference)}` : ""}${a.note ? ` — «${esc(a.note)}»` : ""}`;
}

/* The central system's answer, typed in by the back office (it may also come by the API
 * or in a webhook's reply). */
const answerForm = () => `<form id="answer-form" class="reason-form" novalidate>
  <h2>Ответ региональной системы</h2>
  <label>Решение<select name="outcome"><option value="accepted">принято</option><option value="rejected">отклонено</option></select></label>
  <label>Номер дела в региональной системе<input name="reference" maxlength="100"></label>
  <label>Примечание (при отклонении — почему)<textarea name="note" rows="2" maxlength="1000"></textarea></label>
  <span class="actions"><button type="submit">Записать ответ</button></span></form>`;

/* The approval form: the programme from the region's providers, their workers and the
 * catalogue (GET …/programme-choices). */
function approvalForm(choices) {
  const today = new Date();
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  const end = new Date(today.getFullYear() + 1, today.getMonth(), today.getDate() - 1);
  const services = choices.services.map((s) => `<tr data-code="${esc(s.code)}">
    <td><label class="check"><input type="checkbox" name="service" value="${esc(s.code)}"> ${esc(s.code)} — ${esc(s.name)}</label></td>
    <td><label>Объём <input type="number" name="volume" min="1" max="10000" value="4" aria-label="Объём ${esc(s.code)}"></label></td>
    <td><select name="period" aria-label="Период ${esc(s.code)}"><option value="month">в месяц</option><option value="year">в год</option></select></td></tr>`).join("");
  return `<form id="approval-form" class="reason-form" novalidate>
    <h2>Программа</h2>
    <label>Поставщик услуг<select name="provider" required>${choices.providers.map((p) =>
      `<option value="${esc(p.id)}">${esc(p.name)}</option>`).join("")}</select></label>
    <span class="actions"><label>Действует с<input type="date" name="valid_from" value="${iso(today)}" required></label>
      <label>по<input type="date" name="valid_to" value="${iso(end)}" required></label></span>
    <fieldset><legend>Услуги и объёмы</legend><table class="services-edit"><tbody>${services}</tbody></table></fieldset>
    <div id="rules">${ruleBlock(1)}</div>
    <p><button type="button" class="plain" id="rule-add">Добавить правило посещений</button></p>
    <p class="muted">Услуги каждого посещения — отмеченные выше.</p>
    <span class="actions"><button type="submit">Одобрить</button> <button type="button" class="plain" id="approval-cancel">Отмена</button></span>
    </form>`;
}

/* One plan rule of the programme: weekdays, a time, a worker of the chosen provider. */
const ruleBlock = (n) => `<fieldset class="rule"><legend>Правило посещений ${n}</legend>
  <div role="group" aria-label="Дни недели, правило ${n}">${WEEKDAYS.map((d, i) =>
    `<label class="check"><input type="checkbox" name="weekday" value="${i + 1}"> ${d}</label>`).join(" ")}</div>
  <label>Время<input type="time" name="time" value="10:00" required></label>
  <label>Сотрудник<select name="worker" required></select></label></fieldset>`;

function bindApprovalForm(form, choices, id, say, rerender) {
  /* Each rule's worker list is the chosen provider's; a rule keeps the worker chosen in it
   * while that provider is kept (adding a rule refills every list). */
  const workers = () => {
    const p = choices.providers.find((x) => x.id === form.provider.value);
    const list = (p?.workers || []).map((w) => `<option value="${esc(w.id)}">${esc(w.full_name)}</option>`).join("");
    for (const select of form.querySelectorAll("select[name=worker]")) {
      const kept = select.value;
      select.innerHTML = list;
      if ([...select.options].some((o) => o.value === kept)) select.value = kept;
    }
  };
  form.provider.addEventListener("change", workers);
  workers();
  document.getElementById("rule-add").addEventListener("click", () => {
    const rules = document.getElementById("rules");
    if (rules.children.length >= 16) return say("Не больше 16 правил");
    rules.insertAdjacentHTML("beforeend", ruleBlock(rules.children.length + 1));
    workers();
    rules.lastElementChild.querySelector("input").focus();
  });
  document.getElementById("approval-cancel").addEventListener("click", () => { form.remove(); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const services = [...form.querySelectorAll("tr[data-code]")].filter((tr) => tr.querySelector("input[name=service]").checked)
      .map((tr) => ({ code: tr.dataset.code, volume: Number(tr.querySelector("input[name=volume]").value),
        period: tr.querySelector("select[name=period]").value }));
    if (!services.length) return say("Отметьте хотя бы одну услугу");
    const rules = [];
    for (const [i, block] of [...form.querySelectorAll("fieldset.rule")].entries()) {
      const weekdays = [...block.querySelectorAll("input[name=weekday]:checked")].map((c) => Number(c.value));
      const workerId = block.querySelector("select[name=worker]").value;
      if (!weekdays.length) return say(`Правило ${i + 1}: отметьте дни недели посещений`);
      if (!workerId) return say(`Правило ${i + 1}: выберите сотрудника`);
      rules.push({ worker_id: workerId, weekdays, time: block.querySelector("input[name=time]").value,
        services: services.map((s) => s.code) });
    }
    const programme = {
      provider_id: form.provider.value, valid_from: form.valid_from.value, valid_to: form.valid_to.value, services, rules,
    };
    const r = await post(`/api/v1/applications/${encodeURIComponent(id)}/transitions`, { to: "approved", programme });
    if (r.error || r.missing) return say(r.error || "Одобрение недоступно на этом сервере");
    rerender();
  });
}

function bindApplication(rerender) {
  const box = document.getElementById("application");
  if (!box) return;
  const id = box.dataset.id;
  bindDocuments(id, rerender);
  const say = (text) => {
    const m = document.getElementById("application-message");
    m.textContent = text;
    m.hidden = !text;
  };
  const move = async (body) => {
    const r = await post(`/api/v1/applications/${encodeURIComponent(id)}/transitions`, body);
    if (r.error || r.missing) return say(r.error || "Это действие недоступно на этом сервере");
    rerender();
  };
  const form = document.getElementById("reason-form");
  let pending = "";
  for (const button of document.querySelectorAll("#application-actions button")) {
    button.addEventListener("click", async () => {
      say("");
      const to = button.dataset.to;
      if (to === "approved") {
        const r = await api(`/api/v1/applications/${encodeURIComponent(id)}/programme-choices`);
        if (r.error || r.missing) return say(r.error || "Одобрение недоступно на этом сервере");
        const holder = document.getElementById("approval");
        holder.innerHTML = approvalForm(r.data);
        bindApprovalForm(holder.querySelector("form"), r.data, id, say, rerender);
        holder.querySelector("select").focus();
      } else if (button.dataset.reason) {
        pending = to;
        form.hidden = false;
        form.querySelector("button[type=submit]").textContent = ACTIONS[to] || "Подтвердить";
        form.querySelector("textarea").focus();
      } else {
        move({ to });
      }
    });
  }
  document.getElementById("answer-form")?.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { outcome: f.get("outcome"), reference: String(f.get("reference") || "").trim(), note: String(f.get("note") || "").trim() };
    if (body.outcome === "rejected" && !body.note) return say("Укажите, почему региональная система отклонила заявление");
    const r = await post(`/api/v1/applications/${encodeURIComponent(id)}/answer`, body);
    if (r.error || r.missing) return say(r.error || "Запись ответа недоступна на этом сервере");
    rerender();
  });
  document.getElementById("reason-cancel")?.addEventListener("click", () => { form.hidden = true; });
  form?.addEventListener("submit", (e) => {
    e.preventDefault();
    const reason = String(new FormData(form).get("reason") || "").trim();
    if (!reason) return say("Укажите причину: её прочтёт заявитель");
    move({ to: pending, reason });
  });
}

/* ==== The provider's programmes ==== */

const PERIODS = { month: "в месяц", year: "в год" };
const programmeRow = (p) => `<tr data-programme="${esc(p.id)}" data-accepted="${p.accepted_at ? "1" : ""}">
  <td>${esc(p.recipient.full_name)}<br><span class="muted">${esc(p.recipient.address)}</span></td>
  <td class="certificate">${esc(p.certificate.number)}<br>${localDate(p.certificate.valid_from)} — ${localDate(p.certificate.valid_to)}
    ${p.renewal_due ? '<br><span class="flag">пора продлить</span>' : ""}</td>
  <td>${p.certificate.services.map((s) => `${esc(s.name)}: ${esc(s.volume)} ${esc(PERIODS[s.period] || s.period)}`).join("<br>")}</td>
  <td>${p.rules.map((r) => `${r.weekdays.map((d) => WEEKDAYS[d - 1]).join(", ")} в ${esc(r.time)}, ${esc(r.worker.full_name)}`).join("<br>")}</td>
  <td class="num plans">${esc(p.plans)}</td><td>${dateTime(p.next_plan_at)}</td>
  <td>${p.accepted_at ? `принята ${dateTime(p.accepted_at)}, ${esc(p.accepted_by)}`
    : role() === "manager" || role() === "admin" ? '<button type="button" class="accept">Принять</button>' : "ожидает поставщика"}</td></tr>`;

async function pageProgrammes() {
  const head = "<h1>Индивидуальные программы</h1>";
  const r = await api("/api/v1/programmes");
  if (r.missing) return head + nodata("программы не подключены на этом сервере");
  if (r.error) return head + errorBox(r.error);
  if (!r.data.items.length) return head + nodata("назначенных программ нет");
  return `${head}<p id="programmes-message" class="error" role="alert" hidden></p>
    <table id="programmes"><thead><tr><th>Получатель</th><th>Сертификат</th><th>Услуги</th><th>Посещения</th>
    <th class="num">Запланировано</th><th>Ближайшее</th><th>Поставщик</th></tr></thead>
    <tbody>${r.data.items.map(programmeRow).join("")}</tbody></table>`;
}

function bindProgrammes(rerender) {
  for (const button of document.querySelectorAll("#programmes button.accept")) {
    button.addEventListener("click", async () => {
      const id = button.closest("tr").dataset.programme;
      const r = await post(`/api/v1/programmes/${encodeURIComponent(id)}/accept`);
      const m = document.getElementById("programmes-message");
      if (r.error || r.missing) {
        m.textContent = r.error || "Принятие программ недоступно на этом сервере";
        m.hidden = false;
        return;
      }
      rerender();
    });
  }
}

/* ==== The funnel ==== */

/* The month this browser is in, YYYY-MM (the server counts in the region's local month). */
const thisMonth = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
};
const days = (x) => (x === null || x === undefined ? "—" : esc(String(x).replace(".", ",")));

function funnelCells(f) {
  const share = (n) => (f.submitted ? ` <span class="muted">(${Math.round((100 * n) / f.submitted)} %)</span>` : "");
  return `<td class="num submitted">${esc(f.submitted)}</td><td class="num verified">${esc(f.verified)}${share(f.verified)}</td>
    <td class="num approved">${esc(f.approved)}${share(f.approved)}</td>
    <td class="num first-visit">${esc(f.first_visit)}${share(f.first_visit)}</td>
    <td class="num returned">${esc(f.returned)} / ${esc(f.returns)}</td><td class="num refused">${esc(f.refused)}</td>
    <td class="num withdrawn">${esc(f.withdrawn)}</td>
    <td class="num days-median">${days(f.days_to_first_visit.median)}</td><td class="num days-p90">${days(f.days_to_first_visit.p90)}</td>`;
}

/* The funnel per office of the applications filed in a month: submitted → verified →
 * approved → first visit confirmed by the card, returns, refusals, withdrawals, and the
 * days from filing to the first visit (median, p90) — the server computes every figure. */
async function pageFunnel(params) {
  const month = /^[0-9]{4}-[0-9]{2}$/.test(params.get("month") || "") ? params.get("month") : thisMonth();
  const office = params.get("office") || "";
  const head = `<h1>Воронка заявлений</h1><p><a href="#/applications">← журнал заявлений</a></p>`;
  const offices = (await api("/api/v1/offices")).data?.items || [];
  const query = new URLSearchParams({ month });
  if (office) query.set("office", office);
  const r = await api(`/api/v1/applications/funnel?${query}`);
  const filters = `<form class="filters" id="funnel-filters">
    <label>Месяц подачи<input type="month" name="month" value="${esc(month)}" required></label>
    <label>Офис<select name="office"><option value="">все</option>${options(Object.fromEntries(offices.filter((o) => o.kind !== "back_office").map((o) => [o.id, o.name])), office)}</select></label>
    <button type="submit">Показать</button></form>`;
  if (r.missing) return head + filters + nodata("воронка не подключена на этом сервере");
  if (r.error) return head + filters + errorBox(r.error);
  const f = r.data;
  const rows = f.offices.map((o) => `<tr data-office="${esc(o.office.id)}"><th scope="row">${esc(o.office.name)}</th>${funnelCells(o)}</tr>`).join("");
  const t = f.total;
  return `${head}${filters}
    <p id="funnel-summary">Подано за месяц: <b>${esc(t.submitted)}</b>; от подачи до первого посещения, подтверждённого картой:
      медиана <b id="days-median">${days(t.days_to_first_visit.median)}</b> дн., 90-й процентиль <b id="days-p90">${days(t.days_to_first_visit.p90)}</b> дн.
      (${esc(t.days_to_first_visit.count)} получателей)</p>
    <table id="funnel"><caption>Заявления, поданные в ${esc(f.month)}, и где они сейчас</caption>
    <thead><tr><th>Офис</th><th class="num">Подано</th><th class="num">Проверено</th><th class="num">Одобрено</th>
    <th class="num">Первое посещение</th><th class="num">Возвращено / возвратов</th><th class="num">Отказано</th>
    <th class="num">Отозвано</th><th class="num">Дней до посещения: медиана</th><th class="num">90-й процентиль</th></tr></thead>
    <tbody>${rows || '<tr><td colspan="10">заявлений, поданных в этом месяце, нет</td></tr>'}</tbody>
    <tfoot><tr class="total"><th scope="row">Всего</th>${funnelCells(t)}</tr></tfoot></table>`;
}

function bindFunnel() {
  document.getElementById("funnel-filters")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const query = new URLSearchParams();
    for (const [k, v] of new FormData(e.target)) if (v) query.set(k, v);
    location.hash = `#/applications-funnel?${query}`;
  });
}

/* The pages of this module (pages.js lists them). */
export const pages = {
  applications: { render: (params) => pageJournal(params), after: bindJournal },
  application: { render: (params, id) => pageApplication(id), after: bindApplication, tab: "applications" },
  "application-new": { render: () => pageNew(), after: bindNew, tab: "applications" },
  programmes: { render: () => pageProgrammes(), after: bindProgrammes },
  "applications-funnel": { render: (params) => pageFunnel(params), after: bindFunnel },
};
