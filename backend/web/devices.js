/* The terminals page: every terminal of the manager's provider (every provider's for the
 * department and the administrator) with its worker, state, enrolment and last sync
 * (the later of its last upload and last reference download, from the server). A manager
 * or the administrator revokes a lost or stolen terminal with a reason written in the
 * page; the terminal is refused from its next request on and the action is audited. */
import { api, dateTime, errorBox, esc, nodata, post, role, short } from "./util.js";

const STATUS_NAMES = { active: "активен", revoked: "отозван" };
const canRevoke = () => role() === "manager" || role() === "admin";

const row = (d) => `<tr data-device="${esc(d.id)}" data-status="${esc(d.status)}">
  <td>${esc(d.worker_name || short(d.worker_id))}${d.worker_active === false ? ' <span class="flag">сотрудник деактивирован</span>' : ""}</td>
  <td class="id">${esc(short(d.id))}</td>
  <td class="status"><span class="state ${esc(d.status)}">${esc(STATUS_NAMES[d.status] || d.status)}</span></td>
  <td>${dateTime(d.enrolled_at)}</td>
  <td class="last-sync">${dateTime(d.last_sync_at)}</td>
  <td>${d.status === "active" && canRevoke() ? `<button type="button" class="revoke">Отозвать</button>` : d.revoked_at ? `отозван ${dateTime(d.revoked_at)}` : ""}</td></tr>`;

export async function pageDevices() {
  const head = "<h1>Терминалы</h1>";
  const r = await api("/api/v1/devices");
  if (r.error) return head + errorBox(r.error);
  const list = r.data?.devices;
  if (!list) return head + nodata("список терминалов не подключён на этом сервере");
  if (!list.length) return head + nodata("терминалов пока нет");
  return `${head}<p id="devices-message" class="error" role="alert" hidden></p>
    <form id="revoke-form" class="reason-form noprint" hidden>
      <p>Отзыв терминала <b id="revoke-which"></b>: он больше не получит справочник и не сможет передавать данные.</p>
      <label>Причина отзыва (попадёт в журнал действий)<textarea name="reason" rows="2" maxlength="500" required></textarea></label>
      <button type="submit">Отозвать терминал</button> <button type="button" id="revoke-cancel">Отмена</button></form>
    <table id="devices"><thead><tr><th>Сотрудник</th><th>Терминал</th><th>Состояние</th><th>Подключён</th>
      <th>Последняя синхронизация</th><th></th></tr></thead><tbody>${list.map(row).join("")}</tbody></table>`;
}

export function bindDevices(rerender) {
  const form = document.getElementById("revoke-form");
  if (!form) return;
  let device = null;
  const say = (text) => {
    const m = document.getElementById("devices-message");
    m.textContent = text;
    m.hidden = !text;
  };
  for (const button of document.querySelectorAll("#devices button.revoke")) {
    button.addEventListener("click", () => {
      device = button.closest("tr").dataset.device;
      document.getElementById("revoke-which").textContent = short(device);
      form.hidden = false;
      form.querySelector("textarea").focus();
    });
  }
  document.getElementById("revoke-cancel").addEventListener("click", () => { form.hidden = true; });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const reason = String(new FormData(form).get("reason") || "").trim();
    if (!reason) return say("Укажите причину отзыва");
    const r = await post(`/api/v1/devices/${encodeURIComponent(device)}/revoke`, { reason });
    if (r.error || r.missing) return say(r.error || "Отзыв терминалов недоступен на этом сервере");
    rerender();
  });
}

/* The page of this module (pages.js lists it). */
export const pages = {
  devices: { render: () => pageDevices(), after: (rerender) => bindDevices(rerender) },
};
