/* The browser half of tests/browser/brigades.sh: Playwright (playwright-core) driving
 * Debian's Chromium headless. The intake lead signs in, plans a trip on DAY in the trip form
 * (two villages with times and a meeting place, a partner), books a person at 10:30 in the
 * first village on the trip's day page, announces the trip and sees «объявлен»; then the
 * citizens' schedule shows the trip, its villages and times and the partner, and not the
 * person. No page error. */
import { chromium } from "playwright-core";
import { join } from "node:path";

const { URL: base, ARTIFACTS: artifacts, LOGIN: login, PASSWORD: password, DAY: day } = process.env;
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };

const args = process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args });
const errors = [];
try {
  const page = await browser.newPage({ locale: "ru-RU", timezoneId: "Europe/Moscow", viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${base}/#/trips`);
  const form = page.locator("#login-form");
  await form.waitFor({ timeout: 15000 });
  await form.locator("input[name=login]").fill(login);
  await form.locator("input[name=password]").fill(password);
  await form.locator("button[type=submit]").click();
  await page.locator("#user", { hasText: login }).waitFor({ timeout: 10000 });
  await page.goto(`${base}/#/trip-form`);
  const trip = page.locator("#trip-form");
  await trip.waitFor({ timeout: 15000 });
  await trip.locator("input[name=day]").fill(day);
  await trip.locator("input[name=title]").fill("Выезд в Пашозеро");
  await trip.locator("input[name=booking_info]").fill("Запись по телефону 8 813 64 2-11-11");
  await trip.locator("textarea[name=settlements]").fill("10:00-12:00 д. Ивановка; у магазина\n13:00-15:00 с. Алёхово");
  await trip.locator("textarea[name=partners]").fill("Лодейнопольская ЦРБ — флюорография");
  await trip.getByRole("button", { name: "Сохранить" }).click();
  await page.locator("h1", { hasText: "Выезд в Пашозеро" }).waitFor({ timeout: 15000 });
  if ((await page.locator("#trip-state").textContent()).trim() !== "запланирован") fail("not planned");

  const booking = page.locator("#trip-booking");
  await booking.locator("input[name=time]").fill("10:30");
  await booking.locator("input[name=person_name]").fill("Смирнова Вера Ивановна");
  await booking.locator("input[name=phone]").fill("+7 912 345-67-89");
  await booking.getByRole("button", { name: "Записать" }).click();
  await page.locator("#trip-day", { hasText: "Смирнова Вера Ивановна" }).waitFor({ timeout: 15000 });
  if (!(await page.locator("#trip-day").textContent()).includes("10:30 Смирнова")) fail("the booking's time");
  await page.getByRole("button", { name: "Объявить" }).click();
  await page.locator("#trip-state", { hasText: "объявлен" }).waitFor({ timeout: 15000 });
  await page.screenshot({ path: join(artifacts, "brigades-day.png"), fullPage: true });

  /* The citizens' schedule: no sign-in */
  const citizen = await browser.newPage({ locale: "ru-RU", timezoneId: "Europe/Moscow" });
  citizen.on("pageerror", (e) => errors.push(String(e)));
  await citizen.goto(`${base}/web/trips.html`);
  const shown = citizen.locator("section.trip", { hasText: "Выезд в Пашозеро" });
  await shown.waitFor({ timeout: 15000 });
  const text = await shown.textContent();
  for (const want of ["10:00–12:00 — д. Ивановка (у магазина)", "13:00–15:00 — с. Алёхово",
    "Лодейнопольская ЦРБ — флюорография", "Запись по телефону 8 813 64 2-11-11"]) {
    if (!text.includes(want)) fail(`the schedule lacks «${want}»: ${text}`);
  }
  if ((await citizen.content()).includes("Смирнова")) fail("a person's name on the public page");
  await citizen.screenshot({ path: join(artifacts, "brigades-public.png"), fullPage: true });
  if (errors.length) fail(`page errors: ${errors.join("; ")}`);
} finally {
  await browser.close();
}
console.log("brigades: planned, booked, announced; the public schedule");
