/* The browser half of tests/browser/desk.sh: Playwright (playwright-core) driving Debian's
 * Chromium headless. The office's intake worker opens «Приём: день» for today: the five
 * appointments with their states; the card-checked person's waiting time runs live (7
 * minutes and counting); the figures count 1 card check-in and 2 by staff. The desk checks
 * the phone-booked person in by a document's last 4 digits, calls the card-checked one in
 * and serves them, marks the one in service left unserved with a reason, and accepts the
 * card tap of a terminal that is no desk; the figures then count 2 by card, 3 by staff. No
 * page error. */
import { chromium } from "playwright-core";
import { join } from "node:path";

const { URL: base, OFFICE: office, DAY: day, ARTIFACTS: artifacts, PASSWORD: password } = process.env;
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };

const args = process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args });
const errors = [];
try {
  const page = await browser.newPage({ locale: "ru-RU", timezoneId: "Europe/Moscow", viewport: { width: 1280, height: 1000 } });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${base}/`);
  const form = page.locator("#login-form");
  await form.waitFor({ timeout: 15000 });
  await form.locator("input[name=login]").fill("desk1");
  await form.locator("input[name=password]").fill(password);
  await form.locator("button[type=submit]").click();
  await page.locator("#user", { hasText: "desk1" }).waitFor({ timeout: 10000 });
  if (!(await page.locator("#nav a[data-page=desk-day]").count())) fail("no «Приём: день» in the navigation");
  await page.goto(`${base}/#/desk-day?office=${office}&date=${day}`);
  await page.locator("#desk-day tbody tr").first().waitFor({ timeout: 15000 });
  const row = (name) => page.locator("#desk-day tbody tr", { hasText: name });
  const stateOf = async (name) => (await row(name).locator(".state").textContent()).trim();
  const text = async (sel) => (await page.locator(sel).textContent()).trim();
  const want = { "Телефонов Пётр": "записан", "Картова Анна": "пришёл, ждёт", "Сервисов Иван": "на приёме",
    "Готовая Мария": "обслужен", "Чужой Терминал": "записан" };
  for (const [name, state] of Object.entries(want))
    if (!(await stateOf(name)).startsWith(state)) fail(`${name}: ${await stateOf(name)}, want ${state}`);
  if (!(await row("Картова Анна").locator(".checked-in").textContent()).includes("картой")) fail("the card check-in is not shown as such");

  /* the live waiting time: 7 minutes, and it moves without the server */
  const waiting = row("Картова Анна").locator(".waiting");
  const first = (await waiting.textContent()).trim();
  if (!/^(7|8) мин$/.test(first)) fail(`the waiting time: ${first}`);
  await page.waitForFunction(() => {
    const el = document.querySelector("#desk-day .waiting");
    return el && el.dataset.started && el.textContent.trim().endsWith("мин");
  });
  if ((await text("#desk-figures .by-card")) !== "1" || (await text("#desk-figures .by-staff")) !== "2")
    fail(`the figures before: by card ${await text("#desk-figures .by-card")}, by staff ${await text("#desk-figures .by-staff")}`);
  if (!(await text("#desk-figures .waiting-p50")).endsWith("мин")) fail("no waiting median");
  await page.screenshot({ path: join(artifacts, "desk-day.png"), fullPage: true });

  /* a person booked by phone: checked in by a document's last 4 digits */
  await row("Телефонов Пётр").getByRole("button", { name: "Отметить приход" }).click();
  const checkIn = page.locator("#check-in-form");
  await checkIn.locator("select[name=identified_by]").selectOption("document_digits");
  await checkIn.locator("input[name=document_digits]").fill("0457");
  await checkIn.getByRole("button", { name: "Отметить" }).click();
  await page.locator("#desk-day tbody tr[data-state=checked_in]", { hasText: "Телефонов Пётр" }).waitFor({ timeout: 10000 });
  if (!(await row("Телефонов Пётр").locator(".checked-in").textContent()).includes("по документу …0457"))
    fail("the identification is not shown");

  /* the card-checked person: called in, then served */
  await row("Картова Анна").getByRole("button", { name: "Пригласить" }).click();
  await page.locator("#desk-day tbody tr[data-state=in_service]", { hasText: "Картова Анна" }).waitFor({ timeout: 10000 });
  await row("Картова Анна").getByRole("button", { name: "Обслужен" }).click();
  await page.locator("#desk-day tbody tr[data-state=served]", { hasText: "Картова Анна" }).waitFor({ timeout: 10000 });

  /* the one in service left without being served: the reason is kept */
  await row("Сервисов Иван").getByRole("button", { name: "Ушёл без обслуживания" }).click();
  const left = page.locator("#left-form");
  await left.locator("input[name=reason]").fill("Ушёл, не дождавшись справки");
  await left.getByRole("button", { name: "Сохранить" }).click();
  await page.locator("#desk-day tbody tr[data-state=left_unserved]", { hasText: "Ушёл, не дождавшись справки" }).waitFor({ timeout: 10000 });

  /* the tap on a terminal that is no desk: accepted as the check-in it would have been */
  const exception = page.locator("#desk-exceptions li[data-reason=not_desk]");
  if (!(await exception.textContent()).includes("Чужой Терминал")) fail("the exception does not name the person");
  await exception.getByRole("button", { name: "Принять как приход" }).click();
  await page.locator("#desk-exceptions li", { hasText: "принято" }).waitFor({ timeout: 10000 });
  if (!(await stateOf("Чужой Терминал")).startsWith("пришёл, ждёт")) fail("the accepted tap did not check in");
  if ((await text("#desk-figures .by-card")) !== "2" || (await text("#desk-figures .by-staff")) !== "3")
    fail(`the figures after: by card ${await text("#desk-figures .by-card")}, by staff ${await text("#desk-figures .by-staff")}`);
  if ((await text("#desk-figures .served-count")) !== "2") fail("served is not 2");
  await page.screenshot({ path: join(artifacts, "desk-day-after.png"), fullPage: true });
  if (errors.length) fail(`page errors: ${errors.join("; ")}`);
} finally {
  await browser.close();
}
console.log("desk day page: states, live waiting, check-in by document digits, call in, served, left unserved, exception accepted");
