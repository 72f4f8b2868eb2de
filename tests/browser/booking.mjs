/* The browser half of tests/browser/booking.sh: Playwright (playwright-core) driving
 * Debian's Chromium headless on the citizen's booking page. A citizen picks demo office
 * 1 and the next weekday, holds the first free time, confirms it with name and phone,
 * sees the booking, then cancels it. After each step the free seats of that time are
 * read from the server's API (not from the page) and must have moved: 3 → 2 held →
 * 2 booked → 3 cancelled. No page error may occur. */
import { chromium } from "playwright-core";
import { join } from "node:path";

const { URL: base, OFFICE: office, ARTIFACTS: artifacts } = process.env;
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };

/* The next Monday..Friday after today (UTC dates are close enough: the office is open
 * Monday to Saturday). */
const when = new Date(Date.now() + 86400000);
while ([0, 6].includes(when.getUTCDay())) when.setUTCDate(when.getUTCDate() + 1);
const date = when.toISOString().slice(0, 10);

async function freeAt(start) {
  const res = await fetch(`${base}/api/v1/public/offices/${office}/slots?date=${date}`);
  if (!res.ok) fail(`slots: ${res.status}`);
  const { items } = await res.json();
  const slot = items.find((s) => Date.parse(s.start) === Date.parse(start));
  return slot ? slot.free : -1;
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const errors = [];
try {
  const page = await browser.newPage({ locale: "ru-RU", timezoneId: "Europe/Moscow" });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${base}/web/booking.html`);
  await page.getByLabel("Отделение").selectOption(office);
  await page.getByLabel("День").fill(date);
  await page.getByLabel("День").dispatchEvent("change");
  const first = page.locator("#slots button").first();
  await first.waitFor({ timeout: 10000 });
  const label = await first.getAttribute("aria-label");
  if (!/свободных мест: 3$/.test(label)) fail(`the first time's label: ${label}`);
  const [slots] = await Promise.all([
    fetch(`${base}/api/v1/public/offices/${office}/slots?date=${date}`).then((r) => r.json()),
  ]);
  const start = slots.items[0].start;
  if ((await freeAt(start)) !== 3) fail("the first time is not free on all three desks");

  await first.click();
  await page.getByText("Подтвердите запись").waitFor();
  const heldText = await page.locator("#held").textContent();
  if (!/время за вами до \d\d:\d\d/.test(heldText)) fail(`the hold: ${heldText}`);
  if ((await freeAt(start)) !== 2) fail("the hold did not take a seat");
  await page.screenshot({ path: join(artifacts, "booking-held.png") });

  await page.getByLabel("Фамилия, имя, отчество").fill("Сидорова Мария Ивановна");
  await page.getByLabel("Телефон").fill("8 900 123-45-67");
  await page.getByRole("button", { name: "Записаться" }).click();
  await page.getByText("Вы записаны").waitFor();
  const booked = await page.locator("#booked").textContent();
  if (!booked.includes("МФЦ") || !/в \d\d:\d\d/.test(booked)) fail(`the booking: ${booked}`);
  if ((await page.locator("#status").textContent()) !== "Запись подтверждена.") fail("no confirmation said");
  if ((await freeAt(start)) !== 2) fail("the booking does not hold its seat");
  /* the link to the survey after the visit carries the appointment and its secret */
  const survey = await page.locator("#survey-link").getAttribute("href");
  if (!/^\/web\/survey\.html#id=[0-9a-f-]{36}&secret=[0-9a-f]{32}$/.test(survey)) fail(`the survey link: ${survey}`);
  await page.screenshot({ path: join(artifacts, "booking-done.png") });

  await page.getByRole("button", { name: "Отменить запись" }).click();
  await page.getByText("Запись отменена.").waitFor();
  if ((await freeAt(start)) !== 3) fail("the cancelled time is not free again");
  await page.locator("#slots button").first().waitFor();
  await page.screenshot({ path: join(artifacts, "booking-cancelled.png") });

  /* The office's lead: the settings form. A slot length that does not divide the day is
   * refused in Russian; 20 minutes and a lunch break on Monday are saved, and the
   * citizen's slots follow. */
  await page.goto(`${base}/`);
  const login = page.locator("#login-form");
  await login.waitFor({ timeout: 15000 });
  await login.locator("input[name=login]").fill("lead1");
  await login.locator("input[name=password]").fill(process.env.LEAD_PASSWORD);
  await login.locator("button[type=submit]").click();
  await page.locator("#user", { hasText: "lead1" }).waitFor({ timeout: 10000 });
  await page.getByRole("link", { name: "Запись: настройки" }).click();
  const form = page.locator("#booking-form");
  await form.waitFor({ timeout: 10000 });
  if ((await page.getByLabel("Длительность приёма, минут").inputValue()) !== "15") fail("the form's slot length");
  await page.getByLabel("Длительность приёма, минут").fill("25");
  await form.getByRole("button", { name: "Сохранить" }).click();
  await page.locator("#booking-message", { hasText: "Длительность приёма должна делить час" }).waitFor();
  await page.getByLabel("Длительность приёма, минут").fill("20");
  await page.getByLabel("Часы работы: понедельник").fill("08:00-12:00, 13:00-20:00");
  await form.getByRole("button", { name: "Сохранить" }).click();
  await page.locator("#booking-message", { hasText: "Настройки сохранены." }).waitFor();
  await page.screenshot({ path: join(artifacts, "booking-office-settings.png") });
  const settings = await page.evaluate(async (o) => (await fetch(`/api/v1/offices/${o}/booking`)).json(), office);
  const monday = settings.hours.filter((h) => h.weekday === 1).map((h) => `${h.opens}-${h.closes}`).join(",");
  if (settings.slot_minutes !== 20 || monday !== "08:00-12:00,13:00-20:00") fail(`saved: ${JSON.stringify(settings)}`);
  const after = await (await fetch(`${base}/api/v1/public/offices/${office}/slots?date=${date}`)).json();
  if (after.slot_minutes !== 20) fail(`the citizen's slots: ${after.slot_minutes} minutes`);
  if (errors.length) fail(`page errors: ${errors.join("; ")}`);
} finally {
  await browser.close();
}
