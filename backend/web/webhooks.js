/* The integrations page (issue 20): the region's webhook subscriptions — address, kinds of
 * change, state, failures in a row, what waits, the last delivery — for the department and
 * the administrator; the administrator enables a subscription the server disabled after
 * repeated failures, with a reason written in the page (audited). Each subscription's
 * delivery log (#/webhook/<id>) lists its deliveries with every attempt: when, the
 * receiver's answer, what went wrong. */
import { api, dateTime, errorBox, esc, nodata, post, role, short } from "./util.js";

const EVENT_NAMES = {
  "visit.changed": "посещения",
  "correction.created": "исправления",
  "register.changed": "реестры оплаты",
  "certificate.changed": "сертификаты",
  "card_binding.changed": "карты",
  "application.changed": "заявления",
};
const DELIVERY_NAMES = { pending: "ожидает", delivered: "доставлено" };
const canEnable = () => role() === "admin";

const subscriptionRow = (s) => `<tr data-subscription="${esc(s.id)}" data-enabled="${s.enabled ? "true" : "false"}">
  <td class="url">${esc(s.url)}</td>
  <td>${(s.events || []).map((e) => esc(EVENT_NAMES[e] || e)).join(", ")}</td>
  <td class="status">${s.enabled ? '<span class="state ended">включена</span>'
    : `<span class="state cancelled">отключена</span> ${dateTime(s.disabled_at)}`}</td>
  <td class="failures">${esc(s.consecutive_failures)}</td>
  <td class="pending">${esc(s.pending)}</td>
  <td>${dateTime(s.last_delivered_at)}</td>
  <td><a href="#/webhook/${encodeURIComponent(s.id)}">журнал доставок</a>
    ${!s.enabled && canEnable() ? ' <button type="button" class="enable">Включить снова</button>' : ""}</td></tr>`;

export async function pageWebhooks() {
  const head = "<h1>Интеграции: уведомления о событиях</h1>";
  const r = await api("/api/v1/webhooks");
  if (r.error) return head + errorBox(r.error);
  const list = r.data?.subscriptions;
  if (!list) return head + nodata("уведомления не подключены на этом сервере");
  if (!list.length) return head + nodata("подписок пока нет");
  return `${head}<p>Сервер отправляет изменения по подписанным адресам; после 20 неудачных попыток подряд подписка отключается, изменения копятся и уходят по порядку после включения.</p>
    <p id="webhooks-message" class="error" role="alert" hidden></p>
    <form id="enable-form" class="reason-form noprint" hidden>
      <p>Включить подписку <b id="enable-which"></b> снова: накопленные изменения будут отправлены по порядку.</p>
      <label>Причина (попадёт в журнал действий)<textarea name="reason" rows="2" maxlength="500" required></textarea></label>
      <button type="submit">Включить</button> <button type="button" id="enable-cancel">Отмена</button></form>
    <table id="webhooks"><thead><tr><th>Адрес</th><th>События</th><th>Состояние</th><th>Ошибок подряд</th>
      <th>Ожидают отправки</th><th>Последняя доставка</th><th></th></tr></thead>
      <tbody>${list.map(subscriptionRow).join("")}</tbody></table>`;
}

export function bindWebhooks(rerender) {
  const form = document.getElementById("enable-form");
  if (!form) return;
  let subscription = null;
  const say = (text) => {
    const m = document.getElementById("webhooks-message");
    m.textContent = text;
    m.hidden = !text;
  };
  for (const button of document.querySelectorAll("#webhooks button.enable")) {
    button.addEventListener("click", () => {
      const row = button.closest("tr");
      subscription = row.dataset.subscription;
      document.getElementById("enable-which").textContent = row.querySelector(".url").textContent;
      form.hidden = false;
      form.querySelector("textarea").focus();
    });
  }
  document.getElementById("enable-cancel").addEventListener("click", () => { form.hidden = true; });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const reason = String(new FormData(form).get("reason") || "").trim();
    if (!reason) return say("Укажите причину");
    const r = await post(`/api/v1/webhooks/${encodeURIComponent(subscription)}/enable`, { reason });
    if (r.error || r.missing) return say(r.error || "Включение подписок недоступно на этом сервере");
    rerender();
  });
}

const attemptText = (a) => `${dateTime(a.at)}: ${a.http_status == null ? "нет ответа" : `ответ ${esc(a.http_status)}`}`
  + `${a.error ? ` (${esc(a.error)})` : ""}, ${esc(a.duration_ms)} мс`;

const deliveryRow = (d) => `<tr data-delivery="${esc(d.id)}" data-status="${esc(d.status)}">
  <td class="id">${esc(short(d.id))}</td>
  <td>${esc(EVENT_NAMES[d.kind] || d.kind)} ${esc(short(d.subject_id))}</td>
  <td>${dateTime(d.changed_at)}</td>
  <td class="status"><span class="state ${d.status === "delivered" ? "ended" : "started"}">${esc(DELIVERY_NAMES[d.status] || d.status)}</span>
    ${d.status === "pending" ? `следующая попытка ${dateTime(d.next_attempt_at)}` : dateTime(d.delivered_at)}</td>
  <td class="attempts">${esc(d.attempts)}</td>
  <td><ol class="attempt-log">${(d.attempt_log || []).map((a) => `<li>${attemptText(a)}</li>`).join("")}</ol></td></tr>`;

export async function pageWebhookLog(id) {
  const head = `<h1>Журнал доставок</h1><p><a href="#/webhooks">← все подписки</a></p>`;
  const r = await api(`/api/v1/webhooks/${encodeURIComponent(id)}/deliveries?limit=200`);
  if (r.error) return head + errorBox(r.error);
  if (r.missing) return head + nodata("такой подписки нет");
  const list = r.data?.deliveries || [];
  if (!list.length) return head + nodata("доставок пока не было");
  return `${head}<table id="deliveries"><thead><tr><th>Доставка</th><th>Изменение</th><th>Когда</th><th>Состояние</th>
    <th>Попыток</th><th>Попытки</th></tr></thead><tbody>${list.map(deliveryRow).join("")}</tbody></table>`;
}

/* The pages of this module (pages.js lists them); the log belongs to the integrations tab. */
export const pages = {
  webhooks: { render: () => pageWebhooks(), after: (rerender) => bindWebhooks(rerender) },
  webhook: { render: (params, id) => pageWebhookLog(id), tab: "webhooks" },
};
