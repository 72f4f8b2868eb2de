/* The citizen's booking page (booking.html): offices (GET /api/v1/offices), the day's
 * free slots (GET /api/v1/public/offices/{id}/slots), a 15-minute hold
 * (POST /api/v1/public/appointments), its confirmation and cancellation with the hold's
 * secret (kept in memory only), and the link to the survey after the visit (survey.html,
 * the secret in its fragment). Every text the server sends is shown as text, never
 * as HTML. */
const $ = (id) => document.getElementById(id);
const problems = {
  "slot-taken": "Это время только что заняли. Выберите другое.",
  "office-closed": "В этот день отделение закрыто. Выберите другой день.",
  "hold-expired": "15 минут на подтверждение прошли. Выберите время снова.",
  "person-limit": "У вас уже есть максимальное число записей. Отмените одну из них.",
  "illegal-transition": "Запись уже изменена.",
  "validation": "Проверьте введённые данные.",
};
let held = null; /* {id, secret, start} of the current hold or booking */

function say(text, bad) {
  $("status").textContent = text;
  $("status").className = bad ? "error" : "";
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const type = String(json.type || "").split("/").pop();
    const text = type === "too-many-holds"
      ? `Отсюда уже выбрано слишком много времени сразу. Подтвердите или отмените одну из записей либо повторите через ${Math.ceil((json.retry_after_s || 60) / 60)} мин.`
      : problems[type] || json.detail || "Сервер не отвечает, попробуйте позже.";
    const err = new Error(text);
    err.status = res.status;
    throw err;
  }
  return json;
}

const time = (iso) => new Date(iso).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" });
const day = (iso) => new Date(iso).toLocaleDateString("ru-RU", { day: "numeric", month: "long" });

async function loadOffices() {
  const { items } = await api("GET", "/api/v1/offices");
  const select = $("office");
  for (const o of items.filter((x) => x.kind !== "back_office")) {
    const option = document.createElement("option");
    option.value = o.id;
    option.textContent = `${o.name}${o.address ? ", " + o.address : ""}`;
    select.append(option);
  }
}

async function loadSlots() {
  const box = $("slots");
  box.replaceChildren();
  if (!$("office").value || !$("date").value) return;
  let answer;
  try {
    answer = await api("GET", `/api/v1/public/offices/${$("office").value}/slots?date=${$("date").value}`);
  } catch (e) {
    const p = document.createElement("p");
    p.textContent = e.status === 404 ? "Это отделение не ведёт запись." : e.message;
    box.append(p);
    return;
  }
  const free = answer.items.filter((s) => s.free > 0);
  if (answer.closed || free.length === 0) {
    const p = document.createElement("p");
    p.textContent = answer.closed ? `Отделение закрыто: ${answer.closed}.` : "Свободного времени нет.";
    box.append(p);
    return;
  }
  for (const s of free) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "plain slot";
    b.textContent = time(s.start);
    b.setAttribute("aria-label", `${time(s.start)}, свободных мест: ${s.free}`);
    b.addEventListener("click", () => hold(s.start));
    box.append(b);
  }
}

async function hold(start) {
  try {
    const answer = await api("POST", "/api/v1/public/appointments",
      { office_id: $("office").value, start, kind: $("kind").value });
    held = { id: answer.appointment.id, secret: answer.secret, start };
    $("held").textContent = `${day(start)} в ${time(start)} — время за вами до ${time(answer.appointment.hold_until)}.`;
    $("choose").hidden = true;
    $("confirm").hidden = false;
    say("");
    $("name").focus();
  } catch (e) {
    say(e.message, true);
    loadSlots();
  }
}

async function confirm(event) {
  event.preventDefault();
  try {
    const answer = await api("POST", `/api/v1/public/appointments/${held.id}/confirm`,
      { secret: held.secret, person_name: $("name").value.trim(), phone: $("phone").value.trim() });
    const a = answer.appointment;
    $("booked").textContent = `${day(a.start)} в ${time(a.start)}, ${a.office.name}` +
      `${a.office.address ? ", " + a.office.address : ""}, окно ${a.seat}.`;
    /* the survey after the visit (survey.html): the secret in the fragment, never sent
     * to a server by the browser */
    $("survey-link").href = `/web/survey.html#id=${encodeURIComponent(a.id)}&secret=${encodeURIComponent(held.secret)}`;
    $("confirm").hidden = true;
    $("done").hidden = false;
    say("Запись подтверждена.");
  } catch (e) {
    say(e.message, true);
    if (e.status === 409) backToChoice();
  }
}

async function cancel() {
  try {
    await api("POST", `/api/v1/public/appointments/${held.id}/cancel`, { secret: held.secret });
    say("Запись отменена.");
  } catch (e) {
    say(e.message, true);
    return;
  }
  backToChoice();
}

function backToChoice() {
  held = null;
  $("done").hidden = true;
  $("confirm").hidden = true;
  $("choose").hidden = false;
  loadSlots();
}

document.addEventListener("DOMContentLoaded", async () => {
  const tomorrow = new Date(Date.now() + 86400000);
  $("date").value = tomorrow.toISOString().slice(0, 10);
  $("office").addEventListener("change", loadSlots);
  $("date").addEventListener("change", loadSlots);
  $("confirm").addEventListener("submit", confirm);
  $("release").addEventListener("click", cancel); /* lets the hold go at once */
  $("cancel").addEventListener("click", cancel);
  try {
    await loadOffices();
    await loadSlots();
  } catch (e) {
    say(e.message, true);
  }
});
