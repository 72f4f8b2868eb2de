/* The browser half of tests/browser/complaints.sh: Playwright (playwright-core) driving
 * Debian's Chromium headless. A manager of demo provider 1 signs in, opens «Жалобы» and
 * finds the complaint the low rating opened: its text, source, «открыта», and its due day
 * — 5 working days (Monday to Friday; the demo calendar has no holidays) after today in
 * Moscow, counted here; answers it with a cause, and sees «дан ответ»; gives the person a
 * code, with which the complaint's public page (complaint.html) shows the answer, and
 * nothing of what the person wrote (a wrong code: not found); a citizen files one about an
 * office visit on that page (its number and code shown once) and reads it back. Then the
 * citizens'
 * comparison page (no sign-in): each provider's row shows the shares the seeded rule gives
 * (complaints.sh), Wilson's lower bound computed here by its own formula. No page error. */
import { chromium } from "playwright-core";
import { join } from "node:path";

const { URL: base, ARTIFACTS: artifacts, LOGIN: login, PASSWORD: password, PROVIDERS: providers } = process.env;
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };

/* Today in Moscow (UTC+3 all year) and 5 working days after it, as dd.mm.yyyy. */
function dueText() {
  const d = new Date(Date.now() + 3 * 3600000);
  d.setUTCHours(12, 0, 0, 0);
  for (let left = 5; left > 0;) {
    d.setUTCDate(d.getUTCDate() + 1);
    if (![0, 6].includes(d.getUTCDay())) left--;
  }
  const iso = d.toISOString().slice(0, 10);
  return iso.split("-").reverse().join(".");
}

/* The seeded visits of a provider (complaints.sh's rule) -> the expected figures. */
function expected(n) {
  let confirmed = 0, rated = 0, satisfied = 0, planned = 0, punctual = 0;
  for (let i = 0; i < n; i++) {
    if (i % 5 === 4) continue;
    confirmed++;
    if (i % 7 !== 6) { rated++; if (i % 3 !== 0) satisfied++; }
    if (i % 2 === 0) { planned++; if (i % 4 === 0) punctual++; }
  }
  const z = 1.959964, p = satisfied / rated;
  const lower = (p + z * z / (2 * rated) - z * Math.sqrt(p * (1 - p) / rated + z * z / (4 * rated * rated)))
    / (1 + z * z / rated);
  return { ended: n, rated, satisfied: satisfied / rated, lower, confirmed: confirmed / n, punctual: punctual / planned };
}
const pct = (share) => `${(share * 100).toFixed(1).replace(".", ",")} %`;

const args = process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args });
const errors = [];
try {
  const page = await browser.newPage({ locale: "ru-RU", timezoneId: "Europe/Moscow", viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${base}/#/complaints`);
  const form = page.locator("#login-form");
  await form.waitFor({ timeout: 15000 });
  await form.locator("input[name=login]").fill(login);
  await form.locator("input[name=password]").fill(password);
  await form.locator("button[type=submit]").click();
  await page.locator("#user", { hasText: login }).waitFor({ timeout: 10000 });
  await page.goto(`${base}/#/complaints`);
  const row = page.locator("#complaints tbody tr", { hasText: "Опоздала на полтора часа" });
  await row.waitFor({ timeout: 15000 });
  const source = (await row.locator(".source").textContent()).trim();
  if (source !== "низкая оценка (2)") fail(`the source: ${source}`);
  const due = (await row.locator(".due").textContent()).trim();
  if (due !== dueText()) fail(`the due day: ${due}, want ${dueText()}`);
  if ((await row.locator(".state").textContent()).trim() !== "открыта") fail("not open");
  await page.screenshot({ path: join(artifacts, "complaints-open.png"), fullPage: true });

  await row.getByRole("button", { name: "Ответить" }).click();
  const answer = page.locator("#answer-form");
  await answer.locator("select[name=cause]").selectOption("lateness");
  await answer.locator("textarea[name=answer]").fill("Работнику сделано замечание, продукты доставлены.");
  await answer.getByRole("button", { name: "Отправить ответ" }).click();
  const answered = page.locator("#complaints tbody tr[data-state=answered]", { hasText: "Опоздала на полтора часа" });
  await answered.waitFor({ timeout: 15000 });
  if ((await answered.locator(".cause").textContent()).trim() !== "Опоздание") fail("the cause was not kept");
  if (!(await answered.textContent()).includes("Ответ: Работнику сделано замечание")) fail("the answer is not shown");
  await page.screenshot({ path: join(artifacts, "complaints-answered.png"), fullPage: true });

  /* The phone desk gives the person a code for the complaint (a low rating's has none);
   * the person reads the answer on the public page with its number and that code. */
  await answered.getByRole("button", { name: "Выдать код" }).click();
  const given = page.locator("#complaint-code");
  await given.waitFor({ state: "visible", timeout: 10000 });
  const m = /Жалоба (Ж-\d+), код (\d{10})/.exec(await given.textContent());
  if (!m) fail(`no number and code shown: ${await given.textContent()}`);
  const reader = await browser.newPage({ locale: "ru-RU", timezoneId: "Europe/Moscow" });
  reader.on("pageerror", (e) => errors.push(String(e)));
  await reader.goto(`${base}/web/complaint.html`);
  await reader.locator("#number").fill(m[1]);
  await reader.locator("#code").fill("0000000000");
  await reader.getByRole("button", { name: "Узнать ответ" }).click();
  await reader.locator("#form-errors", { hasText: "не найдена" }).waitFor({ timeout: 10000 });
  await reader.locator("#number").fill(m[1].replace("Ж-", "ж-").replace(/-0+/, "-"));
  await reader.locator("#code").fill(m[2]);
  await reader.getByRole("button", { name: "Узнать ответ" }).click();
  await reader.locator("#complaint").waitFor({ state: "visible", timeout: 10000 });
  if ((await reader.locator("#complaint-state").textContent()).trim() !== "дан ответ") fail("the public page's state");
  if ((await reader.locator("#complaint-number").textContent()).trim() !== m[1]) fail("the public page's number");
  if (!(await reader.locator("#complaint-answer-text").textContent()).includes("Работнику сделано замечание"))
    fail("the answer is not on the public page");
  if ((await reader.content()).includes("Опоздала на полтора часа")) fail("the public page shows what the person wrote");
  await reader.screenshot({ path: join(artifacts, "complaints-public-answer.png"), fullPage: true });

  /* The citizen files one about an office visit: its number and code shown once, with
   * which the same page then shows it under consideration. */
  const filer = await browser.newPage({ locale: "ru-RU", timezoneId: "Europe/Moscow" });
  filer.on("pageerror", (e) => errors.push(String(e)));
  await filer.goto(`${base}/web/complaint.html`);
  await filer.locator("#appointment_id").fill(process.env.APPOINTMENT);
  await filer.locator("#secret").fill(process.env.SECRET);
  await filer.locator("#text").fill("Ждала 40 минут после времени записи");
  await filer.getByRole("button", { name: "Подать жалобу" }).click();
  await filer.locator("#filed").waitFor({ state: "visible", timeout: 10000 });
  const filedNumber = (await filer.locator("#filed-number").textContent()).trim();
  const filedCode = (await filer.locator("#filed-code").textContent()).trim();
  if (!/^Ж-\d{6,}$/.test(filedNumber) || !/^\d{10}$/.test(filedCode)) fail(`filed: ${filedNumber} ${filedCode}`);
  await filer.screenshot({ path: join(artifacts, "complaints-public-filed.png"), fullPage: true });
  await filer.locator("#number").fill(filedNumber);
  await filer.locator("#code").fill(filedCode);
  await filer.getByRole("button", { name: "Узнать ответ" }).click();
  await filer.locator("#complaint").waitFor({ state: "visible", timeout: 10000 });
  if ((await filer.locator("#complaint-state").textContent()).trim() !== "рассматривается") fail("the filed complaint's state");
  if (!(await filer.locator("#complaint-cause").textContent()).includes("Долгое ожидание")) fail("the filed complaint's cause");

  /* The citizens' comparison: no sign-in */
  const citizen = await browser.newPage({ locale: "ru-RU", timezoneId: "Europe/Moscow" });
  citizen.on("pageerror", (e) => errors.push(String(e)));
  await citizen.goto(`${base}/web/compare.html`);
  await citizen.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 15000 });
  const [first, second] = providers.split(",");
  for (const [id, n] of [[first, 40], [second, 23]]) {
    const want = expected(n);
    const tr = citizen.locator(`#providers tr[data-provider="${id}"]`);
    const got = async (cls) => (await tr.locator(`.${cls}`).textContent()).trim();
    const checks = [["satisfied", pct(want.satisfied)], ["lower", pct(want.lower)], ["rated", String(want.rated)],
      ["confirmed", pct(want.confirmed)], ["punctual", pct(want.punctual)]];
    for (const [cls, text] of checks) {
      const value = await got(cls);
      if (value !== text) fail(`provider ${id} ${cls}: ${value}, want ${text}`);
    }
  }
  await citizen.screenshot({ path: join(artifacts, "complaints-compare.png"), fullPage: true });
  if (errors.length) fail(`page errors: ${errors.join("; ")}`);
} finally {
  await browser.close();
}
