/* The citizen's pages (apply.html: the form; status.html: the status by number and
 * code). No sign-in and no session: plain fetches to the public API. Every message is
 * Russian; a field's error is written under it (aria-describedby), marked aria-invalid,
 * listed at the top, and the first wrong field takes the focus. The server's checks are
 * the rule (a 422 names its field); these only spare a round trip. */

const STATES = {
  draft: "формируется в офисе", submitted: "передано на проверку", returned: "возвращено на доработку",
  resubmitted: "передано на проверку повторно", verified: "проверено, передано в департамент",
  assessment: "рассматривается в департаменте", approved: "одобрено", refused: "отказано", withdrawn: "отозвано",
  exported: "передано в региональную систему", answer_received: "получен ответ региональной системы",
};
/* What happens next, per state (due: the date that applies). */
const NEXT = {
  draft: () => "Заявление заполняется в офисе приёма.",
  submitted: (s) => `Офис приёма проверяет заявление. Решение — до ${day(s.decision_due)}.`,
  resubmitted: (s) => `Офис приёма проверяет исправленное заявление. Решение — до ${day(s.decision_due)}.`,
  returned: () => "Обратитесь в офис приёма и исправьте заявление: причина указана ниже.",
  verified: (s) => `Департамент примет решение до ${day(s.decision_due)}.`,
  assessment: (s) => `Департамент принимает решение до ${day(s.decision_due)}.`,
  approved: (s) => `Индивидуальная программа будет составлена до ${day(s.programme_due)}; с вами свяжется поставщик услуг.`,
  refused: () => "В предоставлении услуг отказано: причина указана ниже.",
  withdrawn: () => "Заявление отозвано.",
};
/* The server's field names in the page's words. */
const FIELD_NAMES = {
  applicant_name: "ФИО", applicant_birth_date: "дата рождения", applicant_phone: "телефон",
  applicant_address: "адрес", representative_name: "ФИО представителя", representative_relation: "кем приходится",
  category: "кто вы", purpose: "какая помощь нужна", details: "описание", office_id: "куда подать",
  consent: "согласие", number: "номер заявления", code: "код",
};

const day = (d) => (/^\d{4}-\d{2}-\d{2}$/.test(d || "") ? d.split("-").reverse().join(".") : "—");
const when = (t) => (t ? new Date(t).toLocaleString("ru-RU") : "");
const $ = (id) => document.getElementById(id);

/* Show errors: {field: message}. Returns true when there were none. */
function showErrors(form, errors) {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const p of form.querySelectorAll(".field-error")) p.hidden = true;
  const list = $("form-errors");
  const entries = Object.entries(errors);
  list.hidden = entries.length === 0;
  if (!entries.length) return true;
  list.innerHTML = "";
  const head = document.createElement("p");
  head.textContent = entries.length === 1 ? "Исправьте ошибку:" : `Исправьте ошибки (${entries.length}):`;
  const ul = document.createElement("ul");
  for (const [field, message] of entries) {
    const input = form.elements[field];
    const note = $(`${field}-error`);
    if (input) input.setAttribute("aria-invalid", "true");
    if (note) {
      note.textContent = message;
      note.hidden = false;
    }
    const li = document.createElement("li");
    li.textContent = message;
    ul.append(li);
  }
  list.append(head, ul);
  (form.elements[entries[0][0]] || list).focus();
  return false;
}

/* A problem from the server as {field: message} (or the page's general message). */
function problemErrors(status, body, fallbackField) {
  if (status === 429) return { [fallbackField]: `Слишком много запросов. Повторите через ${body?.retry_after_s ?? "несколько"} с.` };
  const field = body?.field && FIELD_NAMES[body.field] ? body.field : fallbackField;
  if (status === 422 || status === 400) return { [field]: `Проверьте поле «${FIELD_NAMES[field] || field}»: значение не подходит.` };
  return { [fallbackField]: "Сервис временно недоступен. Попробуйте позже." };
}

async function send(path, body) {
  try {
    const res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const json = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    return { status: res.status, body: json };
  } catch (e) {
    return { status: 0, body: null };
  }
}

/* ==== The form ==== */

async function loadOffices(select) {
  try {
    const res = await fetch("/api/v1/offices");
    const offices = (await res.json()).items.filter((o) => o.kind !== "back_office");
    select.innerHTML = '<option value="">— выберите офис —</option>';
    for (const o of offices) {
      const option = document.createElement("option");
      option.value = o.id;
      option.textContent = o.address ? `${o.name} (${o.address})` : o.name;
      select.append(option);
    }
  } catch (e) {
    select.innerHTML = '<option value="">список офисов недоступен</option>';
  }
}

function checkForm(form) {
  const v = (name) => String(form.elements[name].value || "").trim();
  const errors = {};
  if (!v("applicant_name")) errors.applicant_name = "Укажите фамилию, имя и отчество.";
  const birth = v("applicant_birth_date");
  if (!birth) errors.applicant_birth_date = "Укажите дату рождения.";
  else if (birth > new Date().toISOString().slice(0, 10) || birth < "1900-01-01")
    errors.applicant_birth_date = "Дата рождения указана неверно.";
  if (v("applicant_phone") && !/^[0-9 +()-]+$/.test(v("applicant_phone")))
    errors.applicant_phone = "В телефоне могут быть только цифры, пробелы и знаки + ( ) -.";
  if (!v("applicant_address")) errors.applicant_address = "Укажите адрес, где нужны услуги.";
  if (!v("category")) errors.category = "Выберите, кто вы.";
  if (!v("purpose")) errors.purpose = "Выберите, какая помощь нужна.";
  if (!v("office_id")) errors.office_id = "Выберите офис, куда подать заявление.";
  if (!form.elements.consent.checked) errors.consent = "Без согласия на обработку персональных данных заявление не может быть принято.";
  return errors;
}

function bindApply() {
  const form = $("apply-form");
  loadOffices(form.elements.office_id);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!showErrors(form, checkForm(form))) return;
    const body = { consent: true };
    for (const k of ["office_id", "applicant_name", "applicant_birth_date", "applicant_phone", "applicant_address",
      "representative_name", "representative_relation", "category", "purpose", "details"])
      body[k] = String(form.elements[k].value || "").trim();
    const r = await send("/api/v1/public/applications", body);
    if (r.status !== 201) return showErrors(form, problemErrors(r.status, r.body, "applicant_name"));
    form.hidden = true;
    $("filed-number").textContent = r.body.application.number;
    $("filed-code").textContent = r.body.code;
    $("filed-due").textContent = day(r.body.application.decision_due);
    $("filed").hidden = false;
    $("filed").focus();
  });
}

/* ==== The status ==== */

function bindStatus() {
  const form = $("status-form");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const number = String(form.elements.number.value || "").trim();
    const code = String(form.elements.code.value || "").replace(/\s/g, "");
    const errors = {};
    if (!/^\d{4}-\d{6,}$/.test(number)) errors.number = "Номер заявления — как 2026-000123.";
    if (!/^\d{10}$/.test(code)) errors.code = "Код — 10 цифр.";
    if (!showErrors(form, errors)) return;
    const r = await send("/api/v1/public/applications/status", { number, code });
    $("status").hidden = true;
    if (r.status === 404) return showErrors(form, { number: "Заявление с таким номером и кодом не найдено. Проверьте номер и код." });
    if (r.status !== 200) return showErrors(form, problemErrors(r.status, r.body, "number"));
    const s = r.body;
    $("status-number").textContent = s.number;
    $("status-state").textContent = STATES[s.state] || s.state;
    $("status-state").dataset.state = s.state;
    $("status-next").textContent = (NEXT[s.state] || (() => ""))(s);
    $("status-reason").hidden = !s.reason;
    $("status-reason").textContent = s.reason ? `Причина: ${s.reason}` : "";
    const history = $("status-history");
    history.innerHTML = "";
    for (const j of s.journal) {
      const li = document.createElement("li");
      li.textContent = `${when(j.at)} — ${STATES[j.to] || j.to}`;
      history.append(li);
    }
    $("status").hidden = false;
    $("status").focus();
  });
}

if (document.body.dataset.page === "apply") bindApply();
if (document.body.dataset.page === "status") bindStatus();
