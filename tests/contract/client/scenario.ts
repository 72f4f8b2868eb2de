// What an integrator's program does with a client generated from api/openapi.yaml
// (openapi-typescript's types + openapi-fetch), against the real carefactd: sign in, list
// visits, read a visit, list and read the payment register of its month, export it as CSV,
// meet a documented 4xx, sign out. Each step asserts what an integrator would rely on: the
// status, the parsed types, the CSV header row. Compiled by client.sh with tsc --strict
// together with the generated schema.d.ts (a client that does not type-check against the
// contract fails the test), then run with node.
//   URL=http://127.0.0.1:PORT LOGIN=... PASSWORD=... node scenario.js
import createClient, { type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

// Types by operationId and schema name: a renamed operationId or schema breaks this file,
// as it breaks an integrator's (mutant contract.operation-id-renamed).
type Visit = operations["getVisit"]["responses"][200]["content"]["application/json"];
type VisitPage = operations["listVisits"]["responses"][200]["content"]["application/json"];
type Register = components["schemas"]["Register"];
type Problem = components["schemas"]["Problem"];

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const baseUrl = env("URL");
let failures = 0;
const check = (ok: boolean, what: string): void => {
  if (!ok) failures++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
};
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// The session: the cookie carefactd sets at sign-in goes back on every request, and the
// session's CSRF token on every state-changing one (api/openapi.yaml, info).
let cookie = "";
let csrf = "";
const session: Middleware = {
  onRequest({ request }) {
    if (cookie) request.headers.set("Cookie", cookie);
    if (csrf && request.method !== "GET") request.headers.set("X-CSRF-Token", csrf);
    return request;
  },
  onResponse({ response }) {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(";")[0];
      if (pair.startsWith("cf_session=")) cookie = pair;
    }
    return response;
  },
};
const client = createClient<paths>({ baseUrl });
client.use(session);

// 1. Sign in.
{
  const { data, error, response } = await client.POST("/api/v1/session", {
    body: { login: env("LOGIN"), password: env("PASSWORD") },
  });
  check(response.status === 201 && data !== undefined && error === undefined, `signIn: 201 (${response.status})`);
  if (!data) throw new Error(`cannot sign in: ${JSON.stringify(error)}`);
  check(/^[0-9a-f]{64}$/.test(data.csrf_token), "signIn: csrf_token is 64 hex digits");
  check(data.user.login === env("LOGIN") && ["admin", "authority", "manager", "worker"].includes(data.user.role),
        `signIn: user ${data.user.login} with role ${data.user.role}`);
  check(cookie.startsWith("cf_session="), "signIn: the cf_session cookie is set");
  csrf = data.csrf_token;
}
{
  const { data, response } = await client.GET("/api/v1/session");
  check(response.status === 200 && data?.user.login === env("LOGIN"), "getSession: 200, the cookie is the session");
}

// 2. List the rated visits (the newest first; keyset pagination). Unfiltered, the first
// page would be the demo plans of today and tomorrow.
let visits: VisitPage["items"] = [];
{
  const { data, response } = await client.GET("/api/v1/visits", { params: { query: { state: "rated", limit: 10 } } });
  check(response.status === 200 && data !== undefined, `listVisits: 200 (${response.status})`);
  visits = data?.items ?? [];
  check(visits.length === 2 && visits.every((v) => v.state === "rated"), `listVisits: ${visits.length} rated visits (the terminal's 2)`);
  check(data?.next_cursor === null || typeof data?.next_cursor === "string", "listVisits: next_cursor is a string or null");
  check(visits.every((v) => uuid.test(v.id) && uuid.test(v.provider_id) && Array.isArray(v.flags)),
        "listVisits: every visit has uuid ids and a flags array");
}
const chosen = visits[0];
if (!chosen) throw new Error("no ended visit to read");

// 3. Read one visit with its events.
let visit: Visit | undefined;
{
  const { data, response } = await client.GET("/api/v1/visits/{id}", { params: { path: { id: chosen.id } } });
  check(response.status === 200 && data?.id === chosen.id, `getVisit: 200, visit ${chosen.id}`);
  visit = data;
  check(typeof visit?.duration_s === "number" && typeof visit?.started_at === "string",
        `getVisit: duration_s ${visit?.duration_s} s, started_at ${visit?.started_at}`);
  const events = visit?.events ?? [];
  check(events.length >= 2 && events.every((e, i) => i === 0 || e.seq > events[i - 1].seq),
        `getVisit: ${events.length} events in seq order`);
  check(events.some((e) => e.kind === "visit.started") && events.some((e) => e.kind === "visit.ended"),
        "getVisit: its start and end events");
}
if (!visit || !visit.started_at) throw new Error("the visit could not be read");

// 4. The documented 4xx of the same operation: a problem, typed.
{
  const { data, error, response } = await client.GET("/api/v1/visits/{id}", {
    params: { path: { id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b" } },
  });
  const problem: Problem | undefined = error;
  check(response.status === 404 && data === undefined, `getVisit (unknown id): 404 (${response.status})`);
  check(response.headers.get("Content-Type")?.startsWith("application/problem+json") === true &&
        problem?.type === "https://carefact.example/problems/not-found" && problem.status === 404 &&
        typeof problem.detail === "string", `getVisit (unknown id): problem ${problem?.type}`);
}

// 5. The payment register of the visit's month (the region's local month: Europe/Moscow
// in the demo region) for its provider.
const month = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Moscow", year: "numeric", month: "2-digit" })
  .format(new Date(visit.started_at)).slice(0, 7);
let register: Register | undefined;
{
  const { data, response } = await client.GET("/api/v1/registers", {
    params: { query: { month, provider: visit.provider_id } },
  });
  check(response.status === 200 && data?.items.length === 1, `listRegisters: 200, one register of ${month}`);
  const head = data?.items[0];
  check(head?.id === `${month}.${visit.provider_id}` && head.state === "draft" && Number.isInteger(head.total_kopecks),
        `listRegisters: ${head?.id} (${head?.state}), total ${head?.total_kopecks} kopecks`);
  if (!head) throw new Error("no register");
  const got = await client.GET("/api/v1/registers/{id}", { params: { path: { id: head.id } } });
  check(got.response.status === 200 && got.data?.id === head.id, `getRegister: 200, ${head.id}`);
  register = got.data;
  check((register?.included ?? []).some((l) => l.visit_id === visit?.id), "getRegister: the visit read is paid");
  check(register?.included.every((l) => Number.isInteger(l.amount_kopecks) && l.amount_kopecks === l.tariff_kopecks * l.quantity) === true,
        `getRegister: ${register?.included.length} lines, each amount = tariff × quantity`);
  const sum = (register?.included ?? []).reduce((s, l) => s + l.amount_kopecks, 0);
  check(sum === register?.total_kopecks, `getRegister: total_kopecks ${register?.total_kopecks} = the sum of its lines`);
  check((register?.excluded ?? []).every((l) => typeof l.reason === "string"), "getRegister: every excluded visit has a reason");
}
if (!register) throw new Error("the register could not be read");

// 6. Export it as CSV for a Russian-locale spreadsheet.
{
  const { data, response } = await client.GET("/api/v1/registers/{id}/export", {
    params: { path: { id: register.id }, query: { format: "csv" } },
    parseAs: "arrayBuffer",
  });
  check(response.status === 200 && data instanceof ArrayBuffer, `exportRegister (csv): 200 (${response.status})`);
  check(response.headers.get("Content-Type")?.startsWith("text/csv") === true, "exportRegister: Content-Type text/csv");
  check(/^attachment/.test(response.headers.get("Content-Disposition") ?? ""), "exportRegister: an attachment");
  // The bytes, not response.text(): a UTF-8 decoder drops the BOM a spreadsheet needs.
  const bytes = new Uint8Array(data instanceof ArrayBuffer ? data : new ArrayBuffer(0));
  check(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf, "exportRegister: UTF-8 with a BOM");
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  const rows = text.replace(/^\uFEFF/, "").split("\r\n");
  const header = ["Дата", "Время", "Сотрудник", "Получатель", "Код услуги", "Услуга", "Количество",
                  "Тариф, руб.", "Сумма, руб.", "Поздний визит за месяц"];
  check(JSON.stringify(rows[0].split(";")) === JSON.stringify(header), `exportRegister: the header row ${rows[0]}`);
  const total = rows.find((r) => r.startsWith("Итого;"));
  const roubles = (register.total_kopecks / 100).toFixed(2).replace(".", ",");
  check(total?.split(";")[8] === roubles, `exportRegister: the total line says ${roubles} roubles`);
  check(rows.length - 1 >= register.included.length + register.excluded.length + 3,
        `exportRegister: ${rows.length} rows for ${register.included.length} lines and ${register.excluded.length} excluded`);
}

// 7. Sign out (a state change: the CSRF token goes with it).
{
  const { response } = await client.DELETE("/api/v1/session");
  check(response.status === 204, `signOut: 204 (${response.status})`);
  const after = await client.GET("/api/v1/session");
  check(after.response.status === 401, `getSession after signOut: 401 (${after.response.status})`);
}

console.log(failures === 0 ? "scenario: all checks passed" : `scenario: ${failures} checks failed`);
process.exit(failures === 0 ? 0 : 1);
