/* The citizen's survey page (survey.html): the appointment and its secret from the
 * address's fragment, the questions of the survey in force
 * (GET /api/v1/public/surveys/public_service), the answers sent once
 * (POST /api/v1/public/appointments/{id}/survey). Every text the server sends is
 * shown as text, never as HTML. */
const $ = (id) => document.getElementById(id);
const CHOICES = {
  choice3: [["fully", "Да, полностью"], ["partly", "Частично"], ["no", "Нет"]],
  yes_no: [["yes", "Да"], ["no", "Нет"]],
  scale5: [["1", "1"], ["2", "2"], ["3", "3"], ["4", "4"], ["5", "5"]],
};
const problems = {
  "not-served": "Оценить можно после приёма.",
  "already-answered": "Вы уже оценили этот визит. Спасибо!",
  "not-found": "Ссылка неверна или устарела.",
  "rate-limited": "Слишком много попыток. Попробуйте позже.",
  validation: "Ответьте, пожалуйста, на все обязательные вопросы.",
};
const params = new URLSearchParams(location.hash.slice(1));
let form = null; /* {instrument, version, questions} */

function say(text, bad) {
  $("status").textContent = text;
  $("status").className = bad ? "error" : "";
}

function question(q, i) {
  const set = document.createElement("fieldset");
  set.className = `question ${q.kind}`;
  set.dataset.code = q.code;
  const legend = document.createElement("legend");
  legend.textContent = `${i + 1}. ${q.text}${q.required ? "" : " (необязательно)"}`;
  set.append(legend);
  for (const [value, label] of CHOICES[q.kind] || []) {
    const item = document.createElement("label");
    const input = document.createElement("input");
    input.type = "radio";
    input.name = q.code;
    input.value = value;
    input.required = q.required;
    item.append(input, ` ${label} `);
    set.append(item);
  }
  return set;
}

async function load() {
  if (!/^[0-9a-f-]{36}$/.test(params.get("id") || "") || !/^[0-9a-f]{32}$/.test(params.get("secret") || "")) {
    say("Откройте страницу по ссылке, полученной при записи.", true);
    return;
  }
  const res = await fetch("/api/v1/public/surveys/public_service").catch(() => null);
  if (!res || !res.ok) {
    say("Опрос сейчас недоступен, попробуйте позже.", true);
    return;
  }
  form = await res.json();
  $("questions").replaceChildren(...form.questions.map(question));
  $("survey").hidden = false;
}

async function send(event) {
  event.preventDefault();
  const answers = {};
  for (const q of form.questions) {
    const picked = document.querySelector(`input[name="${q.code}"]:checked`);
    if (picked) answers[q.code] = q.kind === "scale5" ? Number(picked.value) : picked.value;
  }
  $("send").disabled = true;
  const res = await fetch(`/api/v1/public/appointments/${params.get("id")}/survey`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ secret: params.get("secret"), instrument: form.instrument, version: form.version, answers }),
  }).catch(() => null);
  $("send").disabled = false;
  if (res && res.status === 201) {
    $("survey").hidden = true;
    $("thanks").hidden = false;
    say("Оценка отправлена.");
    return;
  }
  const body = res ? await res.json().catch(() => ({})) : {};
  const type = String(body.type || "").split("/").pop();
  say(problems[type] || "Сервер не отвечает, попробуйте позже.", type !== "already-answered");
}

$("survey").addEventListener("submit", send);
load();
