/* The payment register pages: the month's registers (one per provider) and one register
 * with its paid lines and its excluded visits. The buttons follow the signed-in role and
 * the register's state: a manager submits a draft, the department approves a submitted
 * register or returns it with a reason (written in the page); an approved register is
 * final and shows who approved it and when. Amounts are kopecks from the server, shown
 * as roubles with two decimals. */
import {
  api, dateTime, errorBox, esc, isDepartment, localDate, monthName, monthParam, nodata, post, role, rub, short, thisMonth,
} from "./util.js";

export const REGISTER_STATES = { draft: "черновик", submitted: "на утверждении", approved: "утверждён" };
export const EXCLUSION_REASONS = {
  start_not_confirmed: "начало не подтверждено картой получателя",
  end_not_confirmed: "окончание не подтверждено картой получателя",
  proof_failed: "подпись карты не прошла проверку",
  below_policy: "подтверждение картой ниже уровня, требуемого регионом",
  not_ended: "визит не завершён",
  unknown_recipient: "получатель не из списка организации",
  disputed: "визит оспорен",
  must_fix: "требует исправления",
  cancelled: "визит отменён",
  attempted: "визит не состоялся (попытка)",
};

const stateBadge = (state) => `<span class="state ${esc(state)}">${esc(REGISTER_STATES[state] || state)}</span>`;
const exportLink = (id, format, label) =>
  `<a class="${format}" href="/api/v1/registers/${encodeURIComponent(id)}/export?format=${format}" download>${label}</a>`;

function monthPicker(month, extra = "") {
  return `<form class="filters noprint" id="register-month"><label>Месяц<input type="month" name="month" value="${esc(month)}"></label>
    <button type="submit">Показать</button>${extra}</form>`;
}

export async function pageRegisters(params) {
  const month = monthParam(params);
  const r = await api(`/api/v1/registers?${new URLSearchParams({ month })}`);
  const head = `<h1>Реестр оплаты — ${esc(monthName(month))}</h1>${monthPicker(month)}`;
  if (r.error) return head + errorBox(r.error);
  const registers = r.data?.items;
  if (!registers) return head + nodata("реестр оплаты ещё не подключён на этом сервере");
  if (!registers.length) return head + nodata("за этот месяц реестров нет");
  const rows = registers.map((g) => `<tr data-register="${esc(g.id)}" data-state="${esc(g.state)}">
    <td><a class="open" href="#/register/${esc(g.id)}">${esc(g.provider_name || short(g.provider_id))}</a></td>
    <td>${stateBadge(g.state)}</td><td class="num">${esc(g.included_count ?? "—")}</td>
    <td class="num">${esc(g.excluded_count ?? "—")}</td><td class="num total">${rub(g.total_kopecks)} ₽</td>
    <td>${exportLink(g.id, "csv", "CSV")} ${exportLink(g.id, "json", "JSON")}</td></tr>`).join("");
  return `${head}<table id="registers"><thead><tr><th>Поставщик</th><th>Состояние</th>
    <th class="num">Включено визитов</th><th class="num">Исключено</th><th class="num">Сумма</th><th>Выгрузка</th></tr></thead>
    <tbody>${rows}</tbody></table>`;
}

/* Who did what to the register, in a sentence each. */
function history(g) {
  const lines = [];
  if (g.submitted_at) lines.push(`Передан на утверждение ${dateTime(g.submitted_at)}${g.submitted_by ? `, ${esc(g.submitted_by)}` : ""}.`);
  if (g.approved_at) lines.push(`Утверждён ${dateTime(g.approved_at)}${g.approved_by ? `, ${esc(g.approved_by)}` : ""}. Изменения больше не вносятся.`);
  if (g.returned_reason && g.state === "draft")
    lines.push(`<span class="returned">Возвращён на доработку${g.returned_by ? ` (${esc(g.returned_by)})` : ""}: «${esc(g.returned_reason)}»</span>`);
  return lines.length ? `<p id="register-history">${lines.join(" ")}</p>` : "";
}

function actions(g) {
  /* a register is submitted once its month has ended (the server refuses earlier) */
  if (g.state === "draft" && role() === "manager" && g.month >= thisMonth())
    return `<p class="muted">Передать на утверждение можно после окончания месяца.</p>`;
  if (g.state === "draft" && role() === "manager")
    return `<p class="actions noprint"><button id="register-submit">Передать на утверждение</button></p>`;
  if (g.state === "submitted" && isDepartment())
    return `<p class="actions noprint"><button id="register-approve">Утвердить</button>
      <button id="register-return" class="plain">Вернуть на доработку</button></p>
      <form id="return-form" class="reason-form noprint" hidden>
        <label>Причина возврата (её увидит поставщик)<textarea name="reason" rows="3" maxlength="2000" required></textarea></label>
        <span class="actions"><button type="submit">Вернуть</button> <button type="button" class="plain" id="return-cancel">Отмена</button></span>
      </form>`;
  if (g.state === "submitted") return `<p class="muted">Ожидает утверждения департаментом.</p>`;
  return "";
}

/* A visit of an earlier month whose register was already submitted comes in late. */
const late = (l) => (l.late ? `<span class="flag">поздний, за ${esc(l.original_month || "")}</span>` : "");

const included = (l) => `<tr data-visit="${esc(l.visit_id)}">
  <td><a href="#/visit/${esc(l.visit_id)}">${localDate(l.local_date)}</a></td><td>${esc(l.local_time || "")}</td>
  <td>${esc(l.worker_name || short(l.worker_id))}</td><td>${esc(l.recipient_name || short(l.recipient_id))}</td>
  <td>${esc(l.service_code)}${l.service_name ? ` — ${esc(l.service_name)}` : ""}</td>
  <td class="num qty">${esc(l.quantity)}</td><td class="num">${rub(l.tariff_kopecks)}</td><td class="num amount">${rub(l.amount_kopecks)}</td>
  <td>${late(l)}</td></tr>`;

const excluded = (x) => `<tr data-visit="${esc(x.visit_id)}" data-reason="${esc(x.reason)}">
  <td><a href="#/visit/${esc(x.visit_id)}">${localDate(x.local_date)} ${esc(x.local_time || "")}</a></td>
  <td>${esc(x.worker_name || "")}</td><td>${esc(x.recipient_name || "")}</td>
  <td class="reason">${esc(EXCLUSION_REASONS[x.reason] || x.reason)}</td><td>${late(x)}</td></tr>`;

export async function pageRegister(id) {
  const r = await api(`/api/v1/registers/${encodeURIComponent(id)}`);
  const back = `<p class="noprint"><a href="#/register?month=${esc(id.slice(0, 7))}">← все реестры месяца</a></p>`;
  if (r.missing) return `<h1>Реестр оплаты</h1>${back}${nodata("такого реестра нет (или реестр ещё не подключён)")}`;
  if (r.error) return `<h1>Реестр оплаты</h1>${back}${errorBox(r.error)}`;
  const g = r.data;
  const lines = g.included || [], out = g.excluded || [];
  const total = g.total_kopecks ?? lines.reduce((s, l) => s + Number(l.amount_kopecks || 0), 0);
  return `<h1>Реестр оплаты: ${esc(g.provider_name || short(g.provider_id))}, ${esc(monthName(g.month || id.slice(0, 7)))}</h1>${back}
    <div class="cards" id="register" data-state="${esc(g.state)}">
      <div class="card">Состояние<b>${stateBadge(g.state)}</b></div>
      <div class="card">Включено визитов<b>${esc(g.included_count ?? new Set(lines.map((l) => l.visit_id)).size)}</b></div>
      <div class="card">Исключено<b>${esc(g.excluded_count ?? out.length)}</b></div>
      <div class="card">К оплате<b id="register-total">${rub(total)} ₽</b></div></div>
    ${history(g)}${actions(g)}<p id="register-message" class="error" role="alert" hidden></p>
    <p class="noprint">Выгрузка: ${exportLink(g.id || id, "csv", "CSV (для таблиц)")} · ${exportLink(g.id || id, "json", "JSON")}</p>
    <h2>Оплачиваемые услуги</h2>
    ${lines.length ? `<table id="register-included"><thead><tr><th>Дата</th><th>Время</th><th>Сотрудник</th><th>Получатель</th>
      <th>Услуга</th><th class="num">Кол-во</th><th class="num">Тариф, ₽</th><th class="num">Сумма, ₽</th><th></th></tr></thead>
      <tbody>${lines.map(included).join("")}</tbody>
      <tfoot><tr><th colspan="7">Итого</th><th class="num">${rub(total)}</th><th></th></tr></tfoot></table>`
    : nodata("в реестре нет оплачиваемых визитов")}
    <h2>Не включены в оплату</h2>
    ${out.length ? `<table id="register-excluded"><thead><tr><th>Визит</th><th>Сотрудник</th><th>Получатель</th>
      <th>Причина</th><th></th></tr></thead><tbody>${out.map(excluded).join("")}</tbody></table>` : nodata("исключённых визитов нет")}`;
}

export function bindRegister(rerender) {
  document.getElementById("register-month")?.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/register?month=${encodeURIComponent(new FormData(e.target).get("month"))}`;
  });
  const box = document.getElementById("register");
  if (!box) return;
  const id = decodeURIComponent(location.hash.replace(/^#\/register\//, "").split("?")[0]);
  const say = (text) => {
    const m = document.getElementById("register-message");
    m.textContent = text;
    m.hidden = !text;
  };
  const act = async (action, body) => {
    const r = await post(`/api/v1/registers/${encodeURIComponent(id)}/${action}`, body);
    if (r.error || r.missing) return say(r.error || "Это действие недоступно на этом сервере");
    rerender();
  };
  document.getElementById("register-submit")?.addEventListener("click", () => act("submit"));
  document.getElementById("register-approve")?.addEventListener("click", () => act("approve"));
  const form = document.getElementById("return-form");
  document.getElementById("register-return")?.addEventListener("click", () => {
    form.hidden = false;
    form.querySelector("textarea").focus();
  });
  document.getElementById("return-cancel")?.addEventListener("click", () => { form.hidden = true; });
  form?.addEventListener("submit", (e) => {
    e.preventDefault();
    const reason = String(new FormData(form).get("reason") || "").trim();
    if (!reason) return say("Укажите причину возврата");
    act("return", { reason });
  });
}

/* The page of this module (pages.js lists it): the list of a month, or one register. */
export const pages = {
  register: { render: (params, id) => (id ? pageRegister(id) : pageRegisters(params)), after: (rerender) => bindRegister(rerender) },
};
