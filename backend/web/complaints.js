/* The complaints page (issue 16): the register of complaints the signed-in person may see
 * (a manager: their provider's) — where each came from (a low rating with a comment opens
 * one by itself, the same day), the cause, what the person wrote, the due day of the
 * answer (5 working days) and whether it is overdue; answering (the text and the cause),
 * closing and reopening; and the trend alerts per worker and provider. */
import { api, dateTime, errorBox, esc, localDate, nodata, post } from "./util.js";

const SOURCE_NAMES = { low_rating: "низкая оценка", public: "сайт", phone: "телефон", follow_up: "обзвон" };
const STATE_NAMES = { open: "открыта", answered: "дан ответ", closed: "закрыта" };
const FILTERS = [["", "все"], ["open", "открытые"], ["overdue", "просроченные"], ["answered", "с ответом"], ["closed", "закрытые"]];

const about = (c) => [c.provider?.name, c.worker?.name, c.office?.name].filter(Boolean).map(esc).join(", ") || "—";

const actions = (c) => c.state === "open"
  ? '<button type="button" class="answer">Ответить</button>'
  : c.state === "answered"
    ? '<button type="button" class="close">Закрыть</button> <button type="button" class="reopen">Открыть снова</button>'
    : '<button type="button" class="reopen">Открыть снова</button>';

const complaintRow = (c) => `<tr data-complaint="${esc(c.id)}" data-state="${esc(c.state)}" data-overdue="${c.overdue ? "true" : "false"}">
  <td><span class="number">${esc(c.number || "")}</span><br>${dateTime(c.opened_at)}
    <br><button type="button" class="code plain" title="Новый код для заявителя: старый перестанет действовать">${c.has_code ? "Новый код" : "Выдать код"}</button></td>
  <td class="source">${esc(SOURCE_NAMES[c.source] || c.source)}${c.rating ? ` (${esc(c.rating)})` : ""}</td>
  <td class="cause">${esc(c.cause_label)}</td>
  <td>${about(c)}</td>
  <td class="text">${esc(c.text)}${c.answer ? `<br><span class="muted">Ответ: ${esc(c.answer)}</span>` : ""}</td>
  <td class="due">${localDate(c.due)}${c.overdue ? ' <span class="flag overdue">просрочена</span>' : ""}</td>
  <td class="state">${esc(STATE_NAMES[c.state] || c.state)}${c.reopened ? ` (повторно: ${esc(c.reopened)})` : ""}</td>
  <td>${actions(c)}</td></tr>`;

const alertRow = (a) => a.kind === "worker"
  ? `<li data-alert="worker">${esc(a.worker?.name)} (${esc(a.provider?.name)}): ${esc(a.complaints)} жалобы за 30 дней</li>`
  : `<li data-alert="provider">${esc(a.provider?.name)}: ${esc(a.complaints)} жалоб на ${esc(a.visits)} посещений — `
    + `${esc(a.per_100_visits)} на 100 посещений при ${esc(a.region_per_100_visits)} по региону</li>`;

let causes = [];

export async function pageComplaints(params) {
  const filter = params.get("filter") || "";
  const query = filter === "overdue" ? "?overdue=true&limit=200" : filter ? `?state=${encodeURIComponent(filter)}&limit=200` : "?limit=200";
  const head = `<h1>Жалобы</h1><p>Жалоба открывается сама, если получатель поставил оценку 2 или ниже и написал комментарий.
    Ответ — в течение 5 рабочих дней.</p>
    <p class="filters noprint">${FILTERS.map(([key, label]) => `<a href="#/complaints${key ? `?filter=${key}` : ""}"${key === filter ? ' aria-current="page"' : ""}>${label}</a>`).join(" · ")}</p>`;
  const [r, alerts] = await Promise.all([api(`/api/v1/complaints${query}`), api("/api/v1/complaints/alerts")]);
  if (r.error) return head + errorBox(r.error);
  if (r.missing) return head + nodata("жалобы не ведутся на этом сервере");
  causes = r.data.causes || [];
  const alertItems = alerts.data?.items || [];
  const alertBox = alertItems.length
    ? `<section id="alerts" class="alerts"><h2>Тревожные тенденции</h2><ul>${alertItems.map(alertRow).join("")}</ul></section>` : "";
  const list = r.data.items || [];
  const form = `<form id="answer-form" class="reason-form noprint" hidden>
      <p>Ответ на жалобу: <b id="answer-which"></b></p>
      <label>Причина<select name="cause">${causes.map((c) => `<option value="${esc(c.code)}">${esc(c.label)}</option>`).join("")}</select></label>
      <label>Текст ответа (его прочтёт заявитель)<textarea name="answer" rows="3" maxlength="4000" required></textarea></label>
      <button type="submit">Отправить ответ</button> <button type="button" id="answer-cancel">Отмена</button></form>
    <p id="complaints-message" class="error" role="alert" hidden></p>
    <p id="complaint-code" class="ok" role="status" hidden></p>`;
  if (!list.length) return head + alertBox + form + nodata("жалоб нет");
  return `${head}${alertBox}${form}<table id="complaints"><thead><tr><th>Открыта</th><th>Источник</th><th>Причина</th>
    <th>Поставщик, работник</th><th>Жалоба</th><th>Срок ответа</th><th>Состояние</th><th></th></tr></thead>
    <tbody>${list.map(complaintRow).join("")}</tbody></table>`;
}

export function bindComplaints(rerender) {
  const form = document.getElementById("answer-form");
  if (!form) return;
  let complaint = null;
  const say = (text) => {
    const m = document.getElementById("complaints-message");
    m.textContent = text;
    m.hidden = !text;
  };
  const move = async (id, body) => {
    const r = await post(`/api/v1/complaints/${encodeURIComponent(id)}/transitions`, body);
    if (r.error || r.missing) return say(r.error || "Жалоба не найдена");
    rerender();
  };
  for (const row of document.querySelectorAll("#complaints tbody tr")) {
    const id = row.dataset.complaint;
    row.querySelector("button.answer")?.addEventListener("click", () => {
      complaint = id;
      document.getElementById("answer-which").textContent = row.querySelector(".text").textContent;
      form.hidden = false;
      form.querySelector("textarea").focus();
    });
    row.querySelector("button.code")?.addEventListener("click", async () => {
      const r = await api(`/api/v1/complaints/${encodeURIComponent(id)}/code`, { method: "POST" }); /* no body */
      if (r.error || r.missing) return say(r.error || "Жалоба не найдена");
      const m = document.getElementById("complaint-code");
      m.textContent = `Жалоба ${r.data.number}, код ${r.data.code}. Продиктуйте заявителю: по номеру и коду он узнает ответ на странице /web/complaint.html. Код показывается один раз.`;
      m.hidden = false;
      return undefined;
    });
    row.querySelector("button.close")?.addEventListener("click", () => move(id, { to: "closed" }));
    row.querySelector("button.reopen")?.addEventListener("click", () => move(id, { to: "open" }));
  }
  document.getElementById("answer-cancel").addEventListener("click", () => { form.hidden = true; });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const answer = String(data.get("answer") || "").trim();
    if (!answer) return say("Напишите ответ");
    return move(complaint, { to: "answered", answer, cause: String(data.get("cause") || "") });
  });
}

/* The pages of this module (pages.js lists it). */
export const pages = {
  complaints: { render: (params) => pageComplaints(params), after: (rerender) => bindComplaints(rerender) },
};

