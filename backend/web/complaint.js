/* The citizen's page of their complaint (complaint.html): filing one (the number and code
 * shown once), and reading it back: the number and code as typed,
 * checked here only for shape (the server reads the number in any usual writing: Ж-000042,
 * ж-42, 42), sent by POST (never in the address), and the answer shown: the state, the due
 * day, the answer once given. A wrong number or code is one message, as the server answers
 * one 404 for both. */
const $ = (id) => document.getElementById(id);
const STATES = { open: "рассматривается", answered: "дан ответ", closed: "закрыта" };
const day = (d) => (/^\d{4}-\d{2}-\d{2}$/.test(d || "") ? d.split("-").reverse().join(".") : "—");
const when = (t) => (t ? new Date(t).toLocaleString("ru-RU") : "");

function showError(field, message) {
  for (const p of document.querySelectorAll(".field-error")) p.hidden = true;
  for (const el of document.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const list = $("form-errors");
  list.hidden = !message;
  if (!message) return;
  list.textContent = message;
  const note = $(`${field}-error`);
  if (note) {
    note.textContent = message;
    note.hidden = false;
  }
  $(field)?.setAttribute("aria-invalid", "true");
  ($(field) || list).focus();
}

function bind() {
  const form = $("complaint-form");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const number = $("number").value.trim();
    const code = $("code").value.replace(/\s/g, "");
    if (!/^([Жж]-?)?\d{1,12}$/.test(number)) return showError("number", "Номер жалобы — как Ж-000042.");
    if (!/^\d{10}$/.test(code)) return showError("code", "Код — 10 цифр.");
    let res;
    try {
      res = await fetch("/api/v1/public/complaints/status", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ number, code }) });
    } catch (err) {
      return showError("number", "Сервис временно недоступен. Попробуйте позже.");
    }
    const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    $("complaint").hidden = true;
    if (res.status === 404) return showError("number", "Жалоба с таким номером и кодом не найдена. Проверьте номер и код.");
    if (res.status === 429) return showError("number", `Слишком много запросов. Повторите через ${body?.retry_after_s ?? "несколько"} с.`);
    if (res.status !== 200) return showError(body?.field === "code" ? "code" : "number", "Проверьте номер и код.");
    showError("", "");
    $("complaint-number").textContent = body.number;
    $("complaint-state").textContent = STATES[body.state] || body.state;
    $("complaint-state").dataset.state = body.state;
    $("complaint-cause").textContent = body.cause_label;
    $("complaint-opened").textContent = day(body.opened_on);
    $("complaint-due").textContent = body.state === "open"
      ? `Ответ будет дан до ${day(body.due)}${body.overdue ? " — срок прошёл, жалоба на контроле" : ""}.`
      : `Срок ответа: ${day(body.due)}.`;
    $("complaint-answer").hidden = !body.answer;
    $("complaint-answer-text").textContent = body.answer || "";
    $("complaint-answered").textContent = when(body.answered_at);
    $("complaint").hidden = false;
    $("complaint").focus();
    return undefined;
  });
}

/* Filing: about an office visit (the booking's id and secret) or a home visit (the
 * application's number and code); the answer's number and code are shown once. */
function bindFiling() {
  const form = $("file-form");
  const errors = $("file-errors");
  const fail = (message) => {
    errors.textContent = message;
    errors.hidden = false;
    errors.focus();
  };
  for (const radio of form.querySelectorAll("input[name=about]"))
    radio.addEventListener("change", () => {
      const home = form.elements.about.value === "home";
      $("about-home").hidden = !home;
      $("about-office").hidden = home;
    });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    errors.hidden = true;
    const about = form.elements.about.value;
    const text = $("text").value.trim();
    if (!text) return fail("Опишите, что случилось.");
    const body = { about, cause: $("cause").value, text };
    if (about === "office") {
      body.appointment_id = $("appointment_id").value.trim().toLowerCase();
      body.secret = $("secret").value.trim().toLowerCase();
    } else {
      body.number = $("app_number").value.trim();
      body.code = $("app_code").value.replace(/\s/g, "");
      if ($("visit_date").value) body.visit_date = $("visit_date").value;
    }
    let res;
    try {
      res = await fetch("/api/v1/public/complaints", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    } catch (err) {
      return fail("Сервис временно недоступен. Попробуйте позже.");
    }
    const answer = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (res.status === 429) return fail(`Слишком много обращений отсюда. Повторите через ${answer?.retry_after_s ?? "несколько"} с.`);
    if (res.status !== 201) return fail(about === "office"
      ? "Запись с таким номером и кодом не найдена. Проверьте их."
      : "Посещение по этому заявлению не найдено. Проверьте номер, код и день.");
    $("filed-number").textContent = answer.number;
    $("filed-code").textContent = answer.code;
    $("filed-due").textContent = day(answer.due);
    form.hidden = true;
    $("filed").hidden = false;
    $("filed").focus();
    return undefined;
  });
}

bind();
bindFiling();
