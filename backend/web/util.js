/* Shared helpers of the dashboard's page modules: escaping, the API call with the
 * session (404 = "this server has no such part yet"), the visit list pager, Russian
 * names of codes, and number/date formatting in ru-RU. No page logic lives here. */
import { currentUser, withSession } from "./session.js";

export const FLAG_NAMES = {
  early_leave: "ранний уход", overtime: "сверх нормы", clock_uncertain: "время не подтверждено",
  card_mismatch: "чужая карта", low_rating: "низкая оценка", far_from_address: "далеко от адреса",
  overlap: "наложение визитов", impossible_travel: "невозможный переезд", abandoned: "не завершено", overdue: "дольше нормы",
  card_binding: "привязка карты", unknown_recipient: "получатель не опознан",
  rating_amended: "повторная оценка", card_proof_failed: "подпись карты не прошла проверку",
};
/* Each confirmation's assurance level and why a card proof failed (sql/0013_card_proof.sql). */
export const LEVEL_NAMES = { dynamic: "подпись карты", static: "данные карты без подписи",
  uid: "только метка UID", none: "без карты" };
export const PROOF_FAILURE_NAMES = {
  unknown_ca_key: "неизвестный ключ платёжной системы", bad_issuer_certificate: "сертификат банка не прошёл проверку",
  bad_icc_certificate: "сертификат карты не прошёл проверку", expired: "срок сертификата истёк",
  pan_mismatch: "номер карты не совпадает с сертификатом", token_mismatch: "приложена не та карта, что указана в событии",
  bad_signature: "подпись карты неверна", challenge_mismatch: "подпись сделана не для этого события",
  reused_signature: "повтор уже использованной подписи", malformed: "данные подписи повреждены",
};
/* "подпись карты" or "без карты — подпись карты неверна" for one end of a visit. */
export const levelText = (level, failure) => level == null ? "—"
  : `${LEVEL_NAMES[level] || level}${failure ? ` — ${PROOF_FAILURE_NAMES[failure] || failure}` : ""}`;
export const STATE_NAMES = { planned: "запланировано", started: "идёт", ended: "завершено", rated: "оценено",
  cancelled: "отменено", attempted: "попытка визита" };
export const REASON_NAMES = { nobody_home: "никого нет дома", refused: "отказ", in_hospital: "в больнице",
  worker_ill: "болезнь сотрудника", other: "другое" };

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/* The server's problems (RFC 7807, stable type) that a page can meet, in Russian; any
 * other keeps the server's detail. */
const PROBLEM_TEXT = {
  "register-closed": "Визит входит в реестр оплаты, переданный на утверждение: исправить его можно, когда департамент вернёт реестр на доработку.",
  "no-change": "Это значение уже действует: исправлять нечего.",
  "planned-visit": "Визит ещё не начат: исправлять нечего.",
  "register-state": "Реестр уже в другом состоянии: обновите страницу.",
  "register-month-open": "Месяц ещё не закончился: реестр передаётся после его окончания.",
  "register-order": "Реестры передаются и возвращаются по порядку месяцев.",
  "already-resolved": "Это исключение уже решено.",
  "document-locked": "Заявление уже передано или решено: документы в нём не удаляются (и к решённому не прикладываются).",
  "too-many-documents": "К заявлению приложено максимальное число документов (20).",
  "media-type-mismatch": "Тип файла не совпадает с его содержимым: приложите настоящий PDF, JPEG или PNG.",
};

function problemText(status, body) {
  const type = String(body?.type || "").split("/").pop();
  if (PROBLEM_TEXT[type]) return `${PROBLEM_TEXT[type]}${type === "register-order" && body?.detail ? ` (${body.detail})` : ""}`;
  if (status === 403) return "Недостаточно прав для этого действия.";
  if (status === 422 && body?.field) return `Проверьте поле «${body.field}»: ${body.detail || "неверное значение"}`;
  return body?.detail || body?.title || `Ошибка сервера (${status})`;
}

let onUnauthorized = () => {};
/* app.js brings the sign-in form back through this when a session ends. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/* GET a JSON resource (or send one with options) with the session. {missing: true}
 * when the server has no such route yet (404/405), {error} for any other failure,
 * else {data}. An ended session brings the sign-in form back. */
export async function api(path, options) {
  try {
    const res = await fetch(path, withSession(options));
    if (res.status === 401) {
      onUnauthorized("Сеанс завершён, войдите снова.");
      return { error: "Требуется вход" };
    }
    if (res.status === 404 || res.status === 405) return { missing: true };
    const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (!res.ok) return { error: problemText(res.status, body), problem: body };
    return { data: body };
  } catch (e) {
    return { error: "Сервер недоступен" };
  }
}

/* POST a JSON body; the answer as api() gives it. */
export function post(path, body = {}) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

/* Every page of a visit list (capped: the dashboard shows recent work, not archives). */
export async function allVisits(query, maxPages = 6) {
  let items = [], cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const params = new URLSearchParams(query);
    params.set("limit", "500");
    if (cursor) params.set("cursor", cursor);
    const r = await api(`/api/v1/visits?${params}`);
    if (!r.data) return { ...r, items };
    items = items.concat(r.data.items);
    cursor = r.data.next_cursor;
    if (!cursor) break;
  }
  return { items };
}

export const short = (id) => (id ? String(id).slice(0, 8) : "—");
export const who = (v, kind) => esc(v[`${kind}_name`] || short(v[`${kind}_id`]));
export const flags = (list) => (list || []).map((f) => `<span class="flag ${esc(f)}">${esc(FLAG_NAMES[f] || f)}</span>`).join("");
export const minutes = (s) => (s == null ? "—" : s < 60 ? `${Math.round(s)} с` : `${Math.round(s / 60)} мин`);
export const dateTime = (t) => (t ? new Date(t).toLocaleString("ru-RU") : "—");
export const date = (t) => (t ? new Date(t).toLocaleDateString("ru-RU") : "—");
/* A local "YYYY-MM-DD" (the region's date, as the server gives it) as "01.12.2026". */
export const localDate = (d) => (/^\d{4}-\d{2}-\d{2}$/.test(d || "") ? d.split("-").reverse().join(".") : date(d));
export const time = (t) => (t ? new Date(t).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" }) : "—");
/* Kopecks as roubles, "1 234,50" (integer arithmetic until the last step). */
export const rub = (kopecks) => (Number(kopecks || 0) / 100).toLocaleString("ru-RU", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
export const percent = (share) => (share == null ? "—" : `${Math.round(Number(share) * 100)} %`);
export const nodata = (what) => `<div class="nodata">Нет данных: ${esc(what)}</div>`;
export const errorBox = (text) => `<div class="error">${esc(text)}</div>`;

/* "услуги": [{code, quantity}] as "HH-SHOP×1, HH-CLEAN×2". */
export const serviceList = (list) => (list?.length
  ? list.map((s) => `${esc(s.code)}×${esc(s.quantity ?? 1)}`).join(", ") : "нет");

export function startOfToday() {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d;
}

export function monthStart(offset = 0) {
  const d = new Date();
  return new Date(d.getFullYear(), d.getMonth() + offset, 1);
}

/* "YYYY-MM" of this month (local), the default of every month picker. */
export function thisMonth() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

/* A month picker's value checked: "YYYY-MM", else this month. */
export function monthParam(params) {
  const m = params.get("month") || "";
  return /^\d{4}-(0[1-9]|1[0-2])$/.test(m) ? m : thisMonth();
}

/* The first instant of "YYYY-MM" and of the month after it, as ISO strings. */
export function monthRange(month) {
  const [y, m] = month.split("-").map(Number);
  return { from: new Date(y, m - 1, 1).toISOString(), to: new Date(y, m, 1).toISOString() };
}

export function monthName(month) {
  const [y, m] = month.split("-").map(Number);
  return new Date(y, m - 1, 1).toLocaleDateString("ru-RU", { month: "long", year: "numeric" });
}

export const role = () => currentUser()?.role || "";
/* Who may correct a visit: a provider's manager, the department, an administrator. */
export const canCorrect = () => ["manager", "authority", "admin"].includes(role());
export const isDepartment = () => ["authority", "admin"].includes(role());
