/* The browser half of tests/browser/touch.sh: Playwright (playwright-core) driving
 * Debian's Chromium headless at phone size against the real carefact-agentd.
 *
 * - Pages of other origins in the same browser (another port of 127.0.0.1, and
 *   "localhost" naming the daemon's own port) try every way a page has to drive the
 *   daemon -- a cross-origin fetch with and without CORS, a form POST, a navigation
 *   with a guessed secret -- while the kiosk's cookie is in the browser; the store
 *   must not change and nothing may be read.
 * - A full day offline with the fewest taps, each counted: a "tap" is a click on
 *   the page, a "card" is the emulator putting that recipient's card in the field
 *   ($SIM_CTL). Start of a planned visit ≤ 2 taps + card; end, services and rating
 *   ≤ 4 taps + card; door attempt and cancellation 2 taps; the recipient's name on
 *   screen < 2 s after the card is put down. After the rating (or its skip) the
 *   recipient answers the server's survey, one tap a question, on one visit and skips it
 *   on the others.
 * - Every screen: screenshots at 360×640 and 720×1280 (no sideways scrolling at
 *   either), axe-core (WCAG 2.1 A/AA and best practice: labels, contrast, ...) with no
 *   violation, and the Tab key visiting the focusable elements in document order.
 * - Then the shell brings carefactd back; the worker syncs from the sync line; the
 *   manager's dashboard lists every visit the server made of the day. */
import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const { START_URL: startUrl, WORK: work, ARTIFACTS: artifacts, CARDS: cardsJson, SIM_CTL: simCtl,
  SIM_OUT: simOut, AXE: axePath, DASHBOARD: dashboard, LOGIN: login, PASSWORD: password,
  SPEECH_LOG: speechLog } = process.env;
const cards = JSON.parse(cardsJson);
const base = new URL(startUrl).origin;
const axeSource = readFileSync(axePath, "utf8");
const PHONE = { width: 360, height: 640 };
const LARGE = { width: 720, height: 1280 };

function check(condition, message) {
  if (!condition) throw new Error(message);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForFile(name, seconds = 120) {
  for (let i = 0; i < seconds * 10; i++) {
    if (existsSync(join(work, name))) return readFileSync(join(work, name), "utf8").trim();
    await sleep(100);
  }
  throw new Error(`the shell never wrote ${name}`);
}

/* One control line to the emulator; waits for its answer line, which must be "ok". */
async function sim(command) {
  const lines = () => readFileSync(simOut, "utf8").split("\n").filter((l) => l !== "");
  const before = lines().length;
  appendFileSync(simCtl, `${command}\n`);
  for (let i = 0; i < 250; i++) {
    const now = lines();
    if (now.length > before) {
      check(now[now.length - 1].startsWith("ok"), `pn532-sim refused '${command}': ${now[now.length - 1]}`);
      return;
    }
    await sleep(20);
  }
  throw new Error(`pn532-sim did not answer '${command}'`);
}

const args = process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args });
const context = await browser.newContext({ locale: "ru-RU", viewport: PHONE });
const page = await context.newPage();
const scriptErrors = [];
page.on("pageerror", (e) => scriptErrors.push(e.message));
page.on("console", (m) => { if (m.type() === "error") scriptErrors.push(m.text()); });

let taps = 0;
async function tap(locator) {
  await locator.click({ timeout: 10000 });
  taps++;
}

/* The recipient taps their card: it goes into the emulator's field until the page
 * shows what is awaited, then it is taken away. Returns ms from card to that. */
async function card(key, awaited) {
  check(cards[key], `no card for ${key}`);
  const t0 = Date.now();
  await sim(cards[key]);
  try {
    await awaited();
  } finally {
    await sim("remove");
  }
  return Date.now() - t0;
}

const screen = () => page.evaluate(() => document.body.dataset.screen);
async function onScreen(name) {
  await page.waitForFunction((n) => document.body.dataset.screen === n, name, { timeout: 10000 });
}

/* Every screen: two sizes, axe, focus order. */
const seen = new Set();
async function inspect(label) {
  const name = await screen();
  await page.evaluate(() => document.fonts.ready);
  for (const [size, vp] of [["360x640", PHONE], ["720x1280", LARGE]]) {
    await page.setViewportSize(vp);
    await page.evaluate(() => window.scrollTo(0, 0));
    await sleep(50);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `${label}: the page scrolls sideways at ${size} (${overflow} px)`);
    await page.screenshot({ path: join(artifacts, `touch-${label}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(PHONE);
  const latin = (await page.locator("body").innerText()).match(/[A-Za-z]{2,}/g);
  check(!latin, `${label}: English on the screen: ${latin?.join(" ")}`);
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
  }));
  const bad = result.violations.map((v) => `${v.id} (${v.nodes.length}): ${v.nodes[0]?.html?.slice(0, 120)}`);
  check(bad.length === 0, `${label}: accessibility violations:\n  ${bad.join("\n  ")}`);
  check(result.passes.some((p) => p.id === "color-contrast") || result.inapplicable.some((p) => p.id === "color-contrast"),
    `${label}: axe did not check the contrast`);
  /* Focus order: Tab walks the focusable elements in document order. */
  const expected = await page.evaluate(() => {
    const all = [...document.querySelectorAll("button:not([disabled]), input:not([disabled]), textarea, a[href], [tabindex]")]
      .filter((e) => e.tabIndex >= 0 && e.offsetParent !== null);
    all.forEach((e, i) => { e.dataset.order = String(i); });
    return all.length;
  });
  /* from the first one, Tab must reach each next one in turn */
  await page.evaluate(() => document.querySelector('[data-order="0"]')?.focus());
  const order = [await page.evaluate(() => document.activeElement?.dataset.order ?? "?")];
  for (let i = 1; i < Math.min(expected, 12); i++) {
    await page.keyboard.press("Tab");
    order.push(await page.evaluate(() => document.activeElement?.dataset.order ?? "?"));
  }
  const want = Array.from({ length: Math.min(expected, 12) }, (_, i) => String(i));
  check(order.join(",") === want.join(","), `${label}: focus order ${order.join(",")} is not the document order ${want.join(",")}`);
  seen.add(name);
}

async function state() {
  return page.evaluate(async () => (await fetch("/api/state", { credentials: "same-origin" })).json());
}

let step = "open";
try {
  /* ==== The kiosk opens the start URL once; the cookie carries on ==== */
  await page.goto(startUrl);
  check(new URL(page.url()).pathname === "/", "the start URL does not lead to the page");
  check(!page.url().includes("k="), "the secret stays in the address bar");
  await onScreen("home");
  const before = await state();
  check(before.plans.length === 5, `5 plans expected, got ${before.plans.length}`);

  /* ==== Other origins cannot drive the daemon ==== */
  step = "other origins";
  const plan0 = before.plans[0].plan_id;
  const evil = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="en"><title>x</title><body>
<form id="f" method="POST" action="${base}/api/visit/attempt" enctype="text/plain" target="sink">
<input name='{"plan_id":"${plan0}","reason":"nobody_home","x":"' value='"}'></form>
<iframe name="sink"></iframe>
<script>
window.results = [];
const hit = (name, p) => p.then(async (r) => results.push(name + ":read:" + r.status + ":" + (r.type === "opaque" ? "opaque" : await r.text())),
                                 (e) => results.push(name + ":blocked"));
const json = JSON.stringify({ plan_id: "${plan0}", reason: "nobody_home" });
window.attack = async () => {
  await hit("cors-json", fetch("${base}/api/visit/attempt", { method: "POST", credentials: "include",
    headers: { "Content-Type": "application/json", "X-Carefact-UI": "1" }, body: json }));
  await hit("no-cors", fetch("${base}/api/visit/attempt", { method: "POST", mode: "no-cors", credentials: "include",
    headers: { "Content-Type": "text/plain" }, body: json }));
  await hit("no-cors-sync", fetch("${base}/api/sync", { method: "POST", mode: "no-cors", credentials: "include", body: "{}" }));
  await hit("state", fetch("${base}/api/state", { credentials: "include" }));
  await hit("say", fetch("${base}/api/say", { method: "POST", mode: "no-cors", credentials: "include", body: '{"text":"x"}' }));
  document.getElementById("f").submit();
  await new Promise((r) => setTimeout(r, 800));
  return results;
};
</script></body></html>`);
  });
  await new Promise((r) => evil.listen(0, "127.0.0.1", r));
  const evilPage = await context.newPage();
  await evilPage.goto(`http://127.0.0.1:${evil.address().port}/`);
  const results = await evilPage.evaluate(() => window.attack());
  for (const r of results) {
    check(r.endsWith(":blocked") || r.includes(":opaque") || /:read:403:/.test(r),
      `another origin read an answer of the daemon: ${r}`);
  }
  check(!results.some((r) => r.startsWith("state:read:200")), "another origin read the daemon's state");
  /* The daemon's own port under another name (DNS rebinding): refused outright. */
  const port = new URL(base).port;
  const rebound = await evilPage.goto(`http://localhost:${port}/`);
  check(rebound.status() === 403, `the daemon answered Host localhost:${port} with ${rebound.status()}`);
  const guessed = await evilPage.goto(`${base}/start?k=${"0".repeat(64)}`);
  check(guessed.status() === 403, "a guessed secret was accepted");
  await evilPage.close();
  evil.close();
  const after = await state();
  check(JSON.stringify(after.plans) === JSON.stringify(before.plans), "a page of another origin changed the plans");
  check(after.sync.waiting === before.sync.waiting, "a page of another origin made an event");
  /* And without the cookie, a same-origin request is refused too. */
  const bare = await browser.newContext();
  const barePage = await bare.newPage();
  const denied = await barePage.goto(`${base}/api/state`);
  check(denied.status() === 403, "the API answered without the secret");
  await bare.close();

  /* ==== The day ==== */
  step = "home";
  await page.reload();
  await onScreen("home");
  await inspect("01-home");
  const plans = before.plans; /* sorted by time: the next on top */
  const firstButton = page.locator("#plans li.next button.start");
  check((await firstButton.textContent()).includes(plans[0].recipient), "the next visit is not on top");

  /* Visit 1: start (1 tap + card), end with a service and a rating by faces. */
  step = "visit 1 start";
  taps = 0;
  await tap(firstButton);
  await onScreen("tap-start");
  await inspect("02-tap-card");
  let ms = await card(plans[0].recipient_id, () => page.locator("#open-visit h2", { hasText: plans[0].recipient }).waitFor({ timeout: 5000 }));
  check(taps <= 2, `start took ${taps} taps`);
  check(ms < 2000, `the recipient was shown ${ms} ms after the card`);
  console.log(`start of a planned visit: ${taps} tap(s) + card; identification shown ${ms} ms after the card`);
  await inspect("03-visit-started");
  check(await page.locator("#sync").textContent().then((t) => /нет связи|Ждут отправки/.test(t)), "the sync line does not say events wait");

  step = "visit 1 end";
  taps = 0;
  await tap(page.locator("#end-visit"));
  await onScreen("services");
  await inspect("04-services");
  const shop = page.locator('label[data-code="HH-SHOP"]');
  check(await shop.textContent().then((t) => /осталось \d+ из \d+/.test(t)), "the services show no remaining volume");
  await tap(shop);
  await tap(page.locator("#to-recipient"));
  await onScreen("confirm");
  const confirmText = await page.locator("main").textContent();
  check(/Покупка и доставка продуктов/.test(confirmText) && /минут/.test(confirmText), "the recipient does not see the services and minutes");
  await inspect("05-recipient-confirms");
  await card(plans[0].recipient_id, () => onScreen("rate"));
  await inspect("06-rating");
  await page.locator("#comment").fill("Всё хорошо, спасибо");
  await tap(page.locator('.faces button[data-rating="4"]'));
  check(taps <= 4, `end, services and rating took ${taps} taps`);
  console.log(`end + services + rating: ${taps} taps + card`);

  /* The recipient answers the survey on their screen: the server's instrument held in the
   * reference data, one question per screen, one tap each (an optional one skipped). The
   * answers tapped go to touch.sh, which finds exactly them on the server. */
  step = "visit 1 survey";
  await onScreen("survey");
  const survey = (await state()).survey;
  check(survey && survey.instrument === "public_service" && survey.questions.length >= 2,
    `the terminal holds no survey of the server: ${JSON.stringify(survey)}`);
  const pick = { scale5: (i) => String(5 - (i % 2)), choice3: () => "fully", yes_no: () => "yes" };
  const tapped = {};
  taps = 0;
  for (const [i, q] of survey.questions.entries()) {
    const group = page.locator(`.answers[data-question="${q.code}"]`);
    await group.waitFor({ timeout: 5000 });
    check((await page.locator("h1").textContent()) === q.text, `question ${q.code} is not the server's text`);
    check(await page.locator("#skip-survey").isVisible(), `no «Пропустить опрос» on question ${q.code}`);
    if (i === 0) await inspect("07-survey-question");
    if (!q.required) {
      await inspect("07b-survey-optional");
      await tap(group.locator('button[data-answer=""]'));
      continue;
    }
    const value = pick[q.kind](i);
    tapped[q.code] = q.kind === "scale5" ? Number(value) : value;
    await tap(group.locator(`button[data-answer="${value}"]`));
  }
  await onScreen("survey-thanks");
  await inspect("07c-survey-thanks");
  check(taps === survey.questions.length, `the survey took ${taps} taps for ${survey.questions.length} questions`);
  console.log(`survey: ${taps} taps for ${survey.questions.length} questions`);
  writeFileSync(join(work, "survey.expected"), JSON.stringify(tapped));
  await onScreen("home");

  /* Visit 2: start, end, the recipient skips the rating. */
  step = "visit 2";
  taps = 0;
  await tap(page.locator(`li[data-plan="${plans[1].plan_id}"] button.start`));
  ms = await card(plans[1].recipient_id, () => page.locator("#open-visit h2", { hasText: plans[1].recipient }).waitFor({ timeout: 5000 }));
  check(taps <= 2 && ms < 2000, `visit 2 start: ${taps} taps, ${ms} ms`);
  taps = 0;
  await tap(page.locator("#end-visit"));
  await tap(page.locator('label[data-code="MED-BP"]'));
  await tap(page.locator("#to-recipient"));
  await card(plans[1].recipient_id, () => onScreen("rate"));
  await tap(page.locator("#skip-rating"));
  check(taps <= 4, `end with a skipped rating took ${taps} taps`);
  /* ... and the survey: nothing is recorded. */
  await onScreen("survey");
  await tap(page.locator("#skip-survey"));
  await onScreen("home");

  /* Door attempt on plan 4: two taps. */
  step = "door attempt";
  taps = 0;
  await tap(page.locator(`li[data-plan="${plans[3].plan_id}"] button`, { hasText: "Не застал" }));
  await onScreen("reason-attempt");
  await inspect("08-attempt-reason");
  await tap(page.locator('button[data-reason="nobody_home"]'));
  await onScreen("home");
  check(taps === 2, `the door attempt took ${taps} taps`);
  check(await page.locator("main .notice").textContent().then((t) => t.includes("не застал")), "the attempt was not confirmed");

  /* Cancellation of plan 5: two taps. */
  step = "cancellation";
  taps = 0;
  await tap(page.locator(`li[data-plan="${plans[4].plan_id}"] button`, { hasText: "Отменить" }));
  await onScreen("reason-cancel");
  await inspect("09-cancel-reason");
  await tap(page.locator('button[data-reason="refused"]'));
  await onScreen("home");
  check(taps === 2, `the cancellation took ${taps} taps`);

  /* Visit 3: another recipient's card first; the worker starts with it (recorded as
   * a card mismatch), and the visit ends with the right card. */
  step = "card mismatch";
  const stranger = Object.keys(cards).find((k) => k !== "new" && !plans.some((p) => p.recipient_id === k));
  await tap(page.locator(`li[data-plan="${plans[2].plan_id}"] button.start`));
  await card(stranger, () => onScreen("mismatch"));
  const warn = await page.locator("main .warning").textContent();
  check(/другого получателя/.test(warn), `the mismatch is not explained: ${warn}`);
  check(!/[A-Za-z]{3,}/.test(await page.locator("body").innerText()), "English on the worker's screen");
  await inspect("10-card-mismatch");
  await tap(page.locator("#accept-card"));
  await page.locator("#open-visit h2", { hasText: plans[2].recipient }).waitFor({ timeout: 5000 });
  check(await page.locator("main .notice").textContent().then((t) => /несовпадение записано/.test(t)), "the mismatch was not said to be recorded");
  await tap(page.locator("#end-visit"));
  await tap(page.locator('label[data-code="HH-SHOP"]'));
  await tap(page.locator("#to-recipient"));
  await card(plans[2].recipient_id, () => onScreen("rate"));
  await tap(page.locator('.faces button[data-rating="5"]'));
  await onScreen("survey");
  await tap(page.locator("#skip-survey"));
  await onScreen("thanks");
  await inspect("07d-thanks");
  await onScreen("home");

  /* An unplanned visit to a recipient of the provider. */
  step = "unplanned";
  taps = 0;
  await tap(page.locator("#unplanned"));
  await onScreen("recipients-unplanned");
  await inspect("11-unplanned-recipients");
  const unplannedId = Object.keys(cards).find((k) => k !== "new" && k !== stranger && !plans.some((p) => p.recipient_id === k));
  await tap(page.locator(`button[data-recipient="${unplannedId}"]`));
  await card(unplannedId, () => page.locator("#open-visit").waitFor({ timeout: 5000 }));
  await tap(page.locator("#end-visit"));
  await tap(page.locator('label[data-code="MED-BP"]'));
  /* Twice the blood pressure: the stepper shown once the service is ticked. */
  await tap(page.locator('.service[data-code="MED-BP"] button[data-step="more"]'));
  check((await page.locator('.service[data-code="MED-BP"] output').textContent()) === "2", "the stepper did not count 2");
  await inspect("11b-services-quantity");
  await tap(page.locator("#to-recipient"));
  await onScreen("confirm");
  check(/× 2/.test(await page.locator("main").textContent()), "the recipient does not see the quantity they confirm");
  await card(unplannedId, () => onScreen("rate"));
  await tap(page.locator("#skip-rating"));
  await onScreen("survey");
  await tap(page.locator("#skip-survey"));
  await onScreen("home");

  /* A new card bound to a recipient (pending the manager). */
  step = "bind";
  await tap(page.locator("#bind"));
  await onScreen("recipients-bind");
  await tap(page.locator(`button[data-recipient="${unplannedId}"]`));
  await onScreen("tap-bind");
  await card("new", () => page.locator("main .notice", { hasText: "Карта привязана" }).waitFor({ timeout: 5000 }));

  /* A visitor's card at an office's desk (issue 16): appointment.checked_in. */
  step = "check-in";
  await tap(page.locator("#check-in"));
  await onScreen("tap-check-in");
  await card(plans[0].recipient_id, () => page.locator("main .notice", { hasText: "Приход отмечен картой" }).waitFor({ timeout: 5000 }));

  /* The sound switch. */
  step = "speech";
  await tap(page.locator("#speech"));
  await page.locator('#speech[aria-pressed="false"]').waitFor({ timeout: 5000 })
    .catch(() => check(false, "the sound does not switch off"));
  await tap(page.locator("#speech"));
  await page.locator('#speech[aria-pressed="true"]').waitFor({ timeout: 5000 })
    .catch(() => check(false, "the sound does not switch on"));

  /* Offline all day: the line says so and counts what waits. */
  step = "offline";
  await page.waitForFunction(() => document.getElementById("sync").dataset.offline === "1", null, { timeout: 30000 })
    .catch(() => check(false, "the sync line never said the server is unreachable"));
  const waiting = Number(await page.locator("#sync").getAttribute("data-waiting"));
  check(waiting >= 10, `only ${waiting} events wait after the day`);
  await page.reload();
  await onScreen("home");
  await inspect("12-home-offline");
  writeFileSync(join(work, "day.done"), "");

  /* ==== Back online: sync from the sync line ==== */
  step = "sync";
  await waitForFile("server.up");
  await tap(page.locator("#sync-now"));
  await page.waitForFunction(() => document.getElementById("sync").dataset.waiting === "0", null, { timeout: 30000 });
  await page.locator("#sync", { hasText: "Всё отправлено" }).waitFor({ timeout: 10000 });
  await inspect("13-home-synced");
  writeFileSync(join(work, "synced"), "");

  /* ==== The manager's dashboard lists every visit ==== */
  step = "dashboard";
  await waitForFile("checked");
  const visits = readFileSync(join(work, "visits.list"), "utf8").trim().split("\n");
  const board = await browser.newPage({ locale: "ru-RU", viewport: { width: 1280, height: 900 } });
  await board.goto(`${dashboard}/#/visits`);
  const form = board.locator("#login-form");
  await form.waitFor({ timeout: 15000 });
  await form.locator("input[name=login]").fill(login);
  await form.locator("input[name=password]").fill(password);
  await form.locator("button[type=submit]").click();
  await board.locator("#user", { hasText: login }).waitFor({ timeout: 10000 });
  await board.goto(`${dashboard}/#/visits`);
  for (const id of visits) {
    await board.locator(`tr[data-visit="${id}"]`).waitFor({ timeout: 15000 })
      .catch(() => check(false, `the dashboard does not list visit ${id}`));
  }
  check(await board.locator("main", { hasText: "чужая карта" }).count() > 0, "the dashboard does not show the card mismatch");
  await board.screenshot({ path: join(artifacts, "touch-14-dashboard.png"), fullPage: true });

  check(scriptErrors.length === 0, `script errors: ${scriptErrors.join("; ")}`);
  const spoken = existsSync(speechLog) ? readFileSync(speechLog, "utf8") : "";
  check(spoken.includes("Приложите карту") && spoken.includes("Подтвердите визит"), "prompts were not spoken");
  console.log(`screens checked (two sizes, axe, focus order): ${[...seen].join(", ")}`);
  console.log(`dashboard lists all ${visits.length} visits of the day`);
} catch (e) {
  await page.screenshot({ path: join(artifacts, "touch-failed.png"), fullPage: true }).catch(() => {});
  console.error(`FAILED at step "${step}" on screen "${await screen().catch(() => "?")}": ${e.message}`);
  await browser.close();
  process.exit(1);
}
await browser.close();
