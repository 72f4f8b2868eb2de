/* The browser half of tests/browser/dashboard.sh: Playwright (playwright-core)
 * driving Debian's Chromium headless against a real carefactd. It asserts what a
 * manager sees: the live badge, a started visit appearing in "Идут сейчас" without a
 * reload, the ended visit with the flag "ранний уход", its event timeline, and every
 * page rendering without a script error. Steps are handed over through files in
 * $WORK (see dashboard.sh). */
import { chromium } from "playwright-core";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const { URL: base, WORK: work, ARTIFACTS: artifacts, LOGIN: login, PASSWORD: password } = process.env;
const shot = (page, name) => page.screenshot({ path: join(artifacts, `dashboard-${name}.png`), fullPage: true });

async function waitForFile(name, seconds = 60) {
  for (let i = 0; i < seconds * 10; i++) {
    if (existsSync(join(work, name))) return readFileSync(join(work, name), "utf8").trim();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the shell never wrote ${name}`);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/* CI runs as root, where Chromium refuses to start without --no-sandbox. */
const args = process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args });
const page = await browser.newPage({ locale: "ru-RU", viewport: { width: 1280, height: 900 } });
const scriptErrors = [];
page.on("pageerror", (e) => scriptErrors.push(e.message));
/* A 404 of an API part not built yet is logged by Chromium as a failed resource; the
 * page answers it with "нет данных", which is checked below, so only other errors count. */
page.on("console", (m) => {
  if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) scriptErrors.push(m.text());
});
let step = "open";
try {
  await page.goto(`${base}/#/today`);
  /* Nothing without signing in: the form, then a wrong password is refused plainly. */
  step = "sign in";
  const form = page.locator("#login-form");
  await form.waitFor({ timeout: 15000 });
  await shot(page, "0-login");
  await form.locator("input[name=login]").fill(login);
  await form.locator("input[name=password]").fill("not-the-password");
  await form.locator("button[type=submit]").click();
  await page.locator("#login-message", { hasText: "Неверный логин или пароль" }).waitFor({ timeout: 10000 });
  await form.locator("input[name=password]").fill(password);
  await form.locator("button[type=submit]").click();
  await page.locator("#user", { hasText: login }).waitFor({ timeout: 10000 });
  step = "open";
  await page.locator("#live.on").waitFor({ timeout: 15000 });
  check((await page.locator("h1").textContent()) === "Сегодня", "the today page is not shown");
  await page.evaluate(() => { window.carefactNoReload = true; });
  await shot(page, "1-today-empty");
  writeFileSync(join(work, "browser.ready"), "");

  step = "live visit";
  const visit = await waitForFile("started");
  const row = page.locator(`#live-visits tr[data-visit="${visit}"]`);
  await row.waitFor({ timeout: 15000 });
  check(await page.evaluate(() => window.carefactNoReload === true), "the page reloaded instead of updating itself");
  check((await page.locator("#live-count").textContent()) === "1", "the live count is not 1");
  check(await row.locator("svg.bar").count() === 1, "the live visit has no elapsed/expected bar");
  /* The plan was on the page before the start, so the bar knows the plan's norm. */
  const liveText = await row.textContent();
  check(/\d+ (с|мин) из \d+ мин/.test(liveText), `the live visit shows no elapsed/expected time: ${liveText}`);
  await shot(page, "2-visit-live");
  writeFileSync(join(work, "seen"), "");

  step = "early leave";
  await waitForFile("ended");
  const done = page.locator(`#done-visits tr[data-visit="${visit}"]`);
  await done.waitFor({ timeout: 15000 });
  await done.locator(".flag.early_leave", { hasText: "ранний уход" }).waitFor({ timeout: 5000 });
  check(await page.locator(`#live-visits tr[data-visit="${visit}"]`).count() === 0, "the ended visit is still listed as live");
  await shot(page, "3-early-leave");

  step = "visit timeline";
  await done.locator("a").click();
  await page.locator("#timeline li").nth(1).waitFor({ timeout: 10000 });
  const kinds = await page.locator("#timeline li b").allTextContents();
  check(kinds.join(",") === "Начало визита,Окончание визита", `timeline shows ${kinds.join(",")}`);
  check((await page.locator("#timeline").textContent()).includes("HH-SHOP×1"), "the timeline does not list the service done");
  await shot(page, "4-visit");

  step = "exception queue";
  /* The early leave waits in the exception queue; the manager acknowledges it. */
  await page.goto(`${base}/#/exceptions`);
  const exception = page.locator(`#exceptions tr[data-subject="${visit}"]`, { has: page.locator(".flag.early_leave") });
  await exception.waitFor({ timeout: 10000 });
  await exception.locator("button", { hasText: "Принять к сведению" }).click();
  await exception.waitFor({ state: "detached", timeout: 10000 });
  await page.goto(`${base}/#/exceptions?status=resolved`);
  const resolved = page.locator(`#exceptions tr[data-subject="${visit}"]`, { has: page.locator(".flag.early_leave") });
  await resolved.waitFor({ timeout: 10000 });
  const resolution = await resolved.textContent();
  check(resolution.includes(`принято к сведению — ${login}`), `the resolution shows ${resolution}`);
  await shot(page, "5-exception-resolved");

  step = "filters";
  await page.goto(`${base}/#/visits?flag=early_leave`);
  await page.locator(`tr[data-visit="${visit}"]`).waitFor({ timeout: 10000 });
  await page.goto(`${base}/#/visits?state=cancelled`);
  await page.locator(".nodata").waitFor({ timeout: 10000 });
  await shot(page, "5-visits-filtered");

  for (const name of ["workers", "exceptions", "ratings", "register"]) {
    step = name;
    await page.goto(`${base}/#/${name}`);
    await page.waitForFunction(() => !document.querySelector("main p.muted")?.textContent.startsWith("Загрузка"));
    await page.locator("main h1").waitFor({ timeout: 10000 });
    const shown = await page.locator("main table, main .nodata, main svg.chart").count();
    check(shown > 0, `the ${name} page shows neither data nor "нет данных"`);
    check(await page.locator("main .error").count() === 0, `the ${name} page shows an error`);
    await shot(page, `6-${name}`);
  }
  step = "register csv";
  /* Until the register API exists the page says so; once it does, the CSV a manager
   * downloads must be what a Russian-locale spreadsheet opens (BOM, ';') and carry
   * the total the page shows. */
  await page.goto(`${base}/#/register`);
  await page.locator("main table, main .nodata").first().waitFor({ timeout: 10000 });
  const registerRow = page.locator("#registers tbody tr").first();
  if (await registerRow.count()) {
    const total = (await registerRow.locator("td.num").last().textContent()).replace(/[^\d,]/g, "");
    const [download] = await Promise.all([page.waitForEvent("download"), registerRow.locator("a.csv").click()]);
    const csvPath = join(artifacts, "dashboard-register.csv");
    await download.saveAs(csvPath);
    const csv = readFileSync(csvPath);
    check(csv[0] === 0xef && csv[1] === 0xbb && csv[2] === 0xbf, "the register CSV has no UTF-8 BOM");
    const text = csv.toString("utf8");
    check(text.split("\n")[0].includes(";"), "the register CSV is not ';'-separated");
    check(text.replace(/[\s\u00a0]/g, "").includes(total) || text.includes(total.replace(",", ".")),
      `the register CSV does not carry the page's total ${total}`);
    console.log(`register: CSV downloaded, total ${total} ₽ matches the page`);
  } else {
    check((await page.locator("main .nodata").textContent()).startsWith("Нет данных"), "the register page shows nothing");
    console.log("register: this server has no payment register yet; the page says «Нет данных»");
  }

  check(scriptErrors.length === 0, `script errors: ${scriptErrors.join("; ")}`);
  console.log("dashboard: live visit, early-leave flag, timeline and all pages seen; screenshots in", artifacts);
} catch (e) {
  await shot(page, `failed-${step.replace(/ /g, "-")}`).catch(() => {});
  console.error(`FAIL at step '${step}': ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
