/* The satisfaction pages: the month's figures (GET /api/v1/satisfaction) — per provider
 * or office and channel, then per service — each with its number of answers, share,
 * the 95 % Wilson interval and the status the server decided against the target (met
 * only when the lower bound reaches it); coverage, would-recommend, low ratings called
 * back in time, the courtesy-bias check. And the department's follow-up queue (GET
 * /api/v1/satisfaction/followups) with the call's answer recorded in place. Every
 * number and status is the server's: the page never computes a bound. */
import { api, errorBox, esc, isDepartment, monthName, monthParam, nodata, post } from "./util.js";

export const STATUS_NAMES = { met: "цель достигнута", not_met: "цель не достигнута", not_enough: "недостаточно ответов" };
const CHANNEL_NAMES = { home_visit: "на дому (терминал)", in_person: "в отделении", phone: "по телефону", web: "на сайте" };
const SERVICE_KINDS = { document_check: "проверка документов", consultation: "консультация", home_survey: "обследование на дому",
  aid_handover: "выдача ТСР", aid_return: "возврат ТСР" };

/* A share 0..1 with one decimal, "83,9 %"; "—" when there is none. */
const pct = (share) => (share == null ? "—" : `${(Number(share) * 100).toFixed(1).replace(".", ",")} %`);

const statusCell = (g) => `<td class="status ${esc(g.status)}" data-status="${esc(g.status)}">${esc(STATUS_NAMES[g.status] || g.status)}</td>`;

function figureRow(g, withService) {
  const coverage = g.coverage == null ? "—"
    : `<span class="${g.coverage_low ? "flag low-coverage" : ""}" title="${g.coverage_low ? "ниже 80 %" : ""}">${pct(g.coverage)}</span>`;
  const low = g.low == null ? "—" : g.low ? `${esc(g.low_followed)} из ${esc(g.low)}` : "0";
  const service = withService ? `<td>${esc(SERVICE_KINDS[g.service] || g.service || "без услуги")}</td>` : "";
  return `<tr data-name="${esc(g.name)}" data-service="${esc(g.service ?? "")}" data-channel="${esc(g.channel)}">
    <td>${esc(g.name)}</td>${service}<td>${esc(CHANNEL_NAMES[g.channel] || g.channel)}</td>
    <td class="num answers">${esc(g.answers)}</td><td class="num">${pct(g.share)}</td>
    <td class="num bounds">${pct(g.lower)} – ${pct(g.upper)}</td>${statusCell(g)}
    <td class="num">${coverage}</td><td class="num">${pct(g.recommend_share)}</td><td class="num">${low}</td></tr>`;
}

function figureTable(id, rows, withService) {
  return `<table id="${id}"><thead><tr><th>Организация</th>${withService ? "<th>Услуга</th>" : ""}<th>Канал</th>
    <th class="num">Ответов</th><th class="num">Удовлетворены</th><th class="num" title="95 % доверительный интервал Вильсона">Границы (95 %)</th>
    <th>Статус</th><th class="num" title="оценено ÷ завершённых визитов">Охват</th><th class="num">Порекомендуют</th>
    <th class="num" title="низкие оценки (≤ 3), по которым перезвонили в течение 2 рабочих дней">Перезвонили по низким</th></tr></thead>
    <tbody>${rows.map((g) => figureRow(g, withService)).join("")}</tbody></table>`;
}

function biasTable(bias) {
  if (!bias.length) return "";
  return `<h2>Проверка независимым опросом</h2><p class="hint">Доля довольных при визите сравнивается с долей
    в независимом контрольном опросе (5 % визитов, не меньше 30 в месяц); отметка — если первая выше более чем на 5 пунктов.</p>
    <table id="bias"><thead><tr><th>Организация</th><th class="num">Оценок при визите</th><th class="num">Довольны при визите</th>
    <th class="num">Ответов в контрольном опросе</th><th class="num">Довольны в контрольном опросе</th><th>Отметка</th></tr></thead>
    <tbody>${bias.map((b) => `<tr data-provider="${esc(b.provider_id)}"><td>${esc(b.name)}</td>
      <td class="num">${esc(b.in_visit_answers)}</td><td class="num">${pct(b.in_visit_share)}</td>
      <td class="num">${esc(b.followup_answers)}</td><td class="num">${pct(b.followup_share)}</td>
      <td class="bias-flag">${b.flagged ? '<span class="flag">возможно завышение оценок при визите</span>' : "—"}</td></tr>`).join("")}</tbody></table>`;
}

export async function pageSatisfaction(params) {
  const month = monthParam(params);
  const channel = CHANNEL_NAMES[params.get("channel")] ? params.get("channel") : "";
  const head = `<h1>Удовлетворённость — ${esc(monthName(month))}</h1>
    <form class="filters" id="satisfaction-filter"><label>Месяц<input type="month" name="month" value="${esc(month)}"></label>
    <label>Канал<select name="channel"><option value="">все</option>${Object.entries(CHANNEL_NAMES).map(([k, v]) =>
      `<option value="${k}"${k === channel ? " selected" : ""}>${esc(v)}</option>`).join("")}</select></label>
    <button type="submit">Показать</button></form>
    <p class="hint">Цель — не меньше 95 % довольных. «Цель достигнута» — только когда нижняя граница 95 % интервала
    не ниже 95 %; «не достигнута» — когда верхняя граница ниже 95 %; иначе ответов недостаточно, чтобы судить.</p>`;
  const query = new URLSearchParams({ month });
  if (channel) query.set("channel", channel);
  const r = await api(`/api/v1/satisfaction?${query}`);
  if (r.missing) return head + errorBox("Показатели удовлетворённости на сервере недоступны.");
  if (r.error) return head + errorBox(r.error);
  const { totals, groups, bias } = r.data;
  if (!totals.length) return head + nodata("за этот месяц оценок нет");
  return `${head}<h2>По организациям и каналам</h2>${figureTable("satisfaction-totals", totals, false)}
    <h2>По услугам</h2>${figureTable("satisfaction-groups", groups, true)}${biasTable(bias)}
    ${isDepartment() ? `<p><a href="#/followups?month=${esc(month)}">Контрольный опрос за месяц</a></p>` : ""}`;
}

export function bindSatisfaction() {
  document.getElementById("satisfaction-filter")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const q = new URLSearchParams({ month: form.get("month") });
    if (form.get("channel")) q.set("channel", form.get("channel"));
    location.hash = `#/satisfaction?${q}`;
  });
}

/* ==== The department's follow-up queue ==== */

export async function pageFollowups(params) {
  const month = monthParam(params);
  const head = `<h1>Контрольный опрос — ${esc(monthName(month))}</h1>
    <form class="filters" id="followups-month"><label>Месяц<input type="month" name="month" value="${esc(month)}"></label>
    <button type="submit">Показать</button></form>
    <p class="hint">Случайная выборка завершённых визитов: 5 %, не меньше 30 на организацию в месяц. Позвоните получателю
    и запишите его оценку посещения.</p>`;
  const r = await api(`/api/v1/satisfaction/followups?${new URLSearchParams({ month })}`);
  if (r.missing) return head + errorBox("Контрольный опрос на сервере недоступен.");
  if (r.error) return head + errorBox(r.error);
  const items = r.data.items;
  if (!items.length) return head + nodata("за этот месяц завершённых визитов нет");
  const open = items.filter((i) => !i.answered).length;
  return `${head}<p>Позвонить: ${open} из ${items.length}.</p><table id="followups"><thead><tr><th>Организация</th>
    <th>Получатель</th><th>Адрес</th><th>Визит</th><th>Оценка по телефону</th></tr></thead><tbody>
    ${items.map((i) => `<tr data-visit="${esc(i.visit_id)}"><td>${esc(i.provider_name)}</td><td>${esc(i.recipient_name || "—")}</td>
      <td>${esc(i.address || "")}</td><td><a href="#/visit/${esc(i.visit_id)}">${i.started_at ? esc(new Date(i.started_at).toLocaleString("ru-RU")) : "—"}</a></td>
      <td>${i.answered ? "записана" : `<select aria-label="Оценка" class="followup-rating">${[5, 4, 3, 2, 1].map((n) =>
        `<option>${n}</option>`).join("")}</select> <button type="button" class="followup-record">Записать</button>`}</td></tr>`).join("")}
    </tbody></table><div id="followup-status" role="status"></div>`;
}

export function bindFollowups() {
  document.getElementById("followups-month")?.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/followups?month=${encodeURIComponent(new FormData(e.target).get("month"))}`;
  });
  for (const button of document.querySelectorAll(".followup-record")) {
    button.addEventListener("click", async () => {
      const row = button.closest("tr");
      const rating = Number(row.querySelector(".followup-rating").value);
      const r = await post("/api/v1/satisfaction/responses", { visit_id: row.dataset.visit, purpose: "sample",
        instrument: "visit_rating", version: 1, answers: { rating } });
      const status = document.getElementById("followup-status");
      if (r.data) {
        button.parentElement.textContent = "записана";
        status.textContent = "Ответ записан.";
      } else {
        status.textContent = r.error || "Ответ не записан.";
      }
    });
  }
}

export const pages = {
  satisfaction: { render: pageSatisfaction, after: bindSatisfaction },
  followups: { render: pageFollowups, after: bindFollowups },
};
