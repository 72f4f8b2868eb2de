/* The browser half of tests/browser/dashboard.sh: Playwright (playwright-core)
 * driving Debian's Chromium headless against a real carefactd. It asserts what a
 * manager sees: the live badge, a started visit appearing in "Идут сейчас" without a
 * reload, the ended visit with the flag "ранний уход", its event timeline, a
 * correction of its services and a dispute in the visit's history and on the
 * recipient's statement, the payment register (the disputed visit excluded, then
 * paid with its corrected quantity; the CSV and JSON downloads carrying the page's
 * total; submitted by the manager, returned with a reason and approved by the
 * authority; a correction refused while submitted, recorded after approval without
 * changing the approved register), the figures pages, and
 * every page rendering without a script error. Steps are handed over through files
 * in $WORK (see dashboard.sh).
 *
 * Every API part the pages use must be in api/openapi.yaml ($SPEC): one missing is a
 * failure, never a pass. The values shown are checked against what the test computes
 * itself from what the worker did: the register's total from the catalogue's tariff
 * (sql/demo/demo_data.sql, $DEMO_SQL) times the corrected quantity, the visit's norm
 * in the exception queue, the worker's figures for the month (one visit, ended early
 * with both ends confirmed by card, the early leave acknowledged: compliance 100 %)
 * and the rating the recipient gave ($RATING, $RATING_COMMENT). */
import { chromium } from "playwright-core";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const { URL: base, WORK: work, ARTIFACTS: artifacts, LOGIN: login, PASSWORD: password, SPEC: specPath,
  AUTHORITY_LOGIN: authorityLogin, AUTHORITY_PASSWORD: authorityPassword, OLD_VISIT: oldVisit,
  DEMO_SQL: demoSql, RATING: rating, RATING_COMMENT: ratingComment, SPARE_DEVICE: spareDevice,
  HOOK: hook, ADMIN_LOGIN: adminLogin, ADMIN_PASSWORD: adminPassword } = process.env;
const spec = readFileSync(specPath, "utf8");
const inSpec = (path) => spec.includes(`\n  ${path}:`);
const has = {
  corrections: inSpec("/api/v1/visits/{id}/corrections"),
  statement: inSpec("/api/v1/recipients/{id}/statement"),
  figures: inSpec("/api/v1/figures"),
  register: inSpec("/api/v1/registers") && inSpec("/api/v1/registers/{id}"),
  devices: inSpec("/api/v1/devices/{id}/revoke"),
  webhooks: inSpec("/api/v1/webhooks/{id}/enable") && inSpec("/api/v1/webhooks/{id}/deliveries"),
};
const pending = Object.entries(has).filter(([, on]) => !on).map(([name]) => name);
/* The catalogue the demo data loads: code -> {norm, tariff} (minutes, kopecks). */
const catalogue = new Map([...readFileSync(demoSql, "utf8")
  .matchAll(/\('([A-Z]+-[A-Z]+)', '[^']*', '[a-z]+', '[a-z]+', (\d+), (\d+)\)/g)]
  .map(([, code, norm, tariff]) => [code, { norm: Number(norm), tariff: Number(tariff) }]));
const roubles = (kopecks) => (kopecks / 100).toFixed(2).replace(".", ","); /* 56000 -> "560,00" */
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
async function signInAs(who, secret) {
  const form = page.locator("#login-form");
  await form.waitFor({ timeout: 15000 });
  await form.locator("input[name=login]").fill(who);
  await form.locator("input[name=password]").fill(secret);
  await form.locator("button[type=submit]").click();
  await page.locator("#user", { hasText: who }).waitFor({ timeout: 10000 });
}

/* Render of the current hash finished (app.js sets data-rendered after each). */
async function rendered(hash) {
  const before = await page.evaluate(() => document.body.dataset.rendered || "");
  if (await page.evaluate(() => location.hash) === hash) await page.reload(); /* no hashchange to the same hash */
  else await page.goto(`${base}/${hash}`);
  await page.waitForFunction((b) => (document.body.dataset.rendered || "") !== b, before, { timeout: 15000 });
}

const amount = (text) => text.replace(/[^\d,]/g, ""); /* "1 234,50 ₽" -> "1234,50" */

let step = "contract";
try {
  /* Every part is in the contract now: a missing one is a failure (the branches below
   * run unconditionally). */
  check(pending.length === 0, `API parts the pages use are not in api/openapi.yaml: ${pending.join(", ")}`);
  check(catalogue.get("HH-SHOP")?.tariff > 0 && catalogue.get("HH-SHOP")?.norm > 0,
    `no HH-SHOP tariff and norm read from ${demoSql}`);
  step = "open";
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
  /* Waited for, not read once: the page may still be loading when the stream is on. */
  await page.locator("main h1", { hasText: /^Сегодня$/ }).waitFor({ timeout: 15000 })
    .catch(() => check(false, "the today page is not shown"));
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
  check(kinds.join(",") === "Начало визита,Окончание визита,Оценка", `timeline shows ${kinds.join(",")}`);
  check((await page.locator("#timeline").textContent()).includes("HH-SHOP×1"), "the timeline does not list the service done");
  /* Each end's assurance level in Russian (issue 14), as the server judged it. */
  const levelNames = ["подпись карты", "данные карты без подписи", "только метка UID", "без карты"];
  for (const end of ["start", "end"]) {
    const text = (await page.locator(`#${end}-level`).textContent()) || "";
    check(levelNames.some((n) => text.includes(n)), `the visit page shows no assurance level at the ${end}: "${text}"`);
  }
  await shot(page, "4-visit");
  /* Corrections, the statement and the register work on the visit of last month (a
   * register is submitted once its month has ended): dashboard.sh played it. */
  const visitJson = await page.evaluate(async (id) => (await fetch(`/api/v1/visits/${id}`)).json(), oldVisit);
  check(visitJson.state === "ended" && visitJson.start_confirmed && visitJson.end_confirmed,
    `last month's visit is not ended and confirmed: ${JSON.stringify(visitJson)}`);
  await rendered(`#/visit/${oldVisit}`);

  if (has.corrections) {
    step = "correct services";
    /* The terminal recorded HH-SHOP×1; the manager corrects it to 2, with a reason. */
    check((await page.locator("#terminal-services").textContent()).includes("HH-SHOP×1"), "the terminal's services are not shown");
    check(await page.locator("#visit-badges .badge").count() === 0, "a visit never corrected shows a badge");
    const form = page.locator("#correct-services");
    await form.locator("input[name=quantity]").first().fill("2");
    await form.locator("textarea[name=reason]").fill("Получатель подтвердил две покупки");
    await form.locator("button[type=submit]").click();
    const item = page.locator("#corrections li[data-field=services]");
    await item.waitFor({ timeout: 10000 });
    const text = await item.textContent();
    check(text.includes("Услуги: было HH-SHOP×1, стало HH-SHOP×2"), `the history does not say from -> to: ${text}`);
    check(text.includes(login) && text.includes("Получатель подтвердил две покупки"), `the history lacks who or why: ${text}`);
    await page.locator("#visit-badges .badge.corrected", { hasText: "Исправлено" }).waitFor({ timeout: 5000 });
    check((await page.locator("#effective-services").textContent()).includes("HH-SHOP×2"), "the effective services are not shown");
    check((await page.locator("#terminal-services").textContent()).includes("HH-SHOP×1"), "the terminal's list changed");

    step = "dispute";
    const dispute = page.locator("#correct-dispute");
    await dispute.locator("textarea[name=reason]").fill("Получатель говорит, что визит был короче");
    await dispute.locator("button", { hasText: "Оспорить" }).click();
    await page.locator("#corrections li[data-field=disputed]", { hasText: "Визит оспорен" }).waitFor({ timeout: 10000 });
    await page.locator("#visit-badges .badge.disputed", { hasText: "Оспорено" }).waitFor({ timeout: 5000 });
    await shot(page, "4b-visit-corrected");
  }

  if (has.statement) {
    step = "statement";
    /* The recipient's name on the visit page leads to their statement of the month. */
    await page.locator("#recipient-link").click();
    const line = page.locator(`#statement-visits tr[data-visit="${oldVisit}"]`);
    await line.waitFor({ timeout: 10000 });
    const text = await line.textContent();
    check(/× 2/.test(text), `the statement does not show the corrected quantity: ${text}`);
    if (has.corrections) {
      check(text.includes("Получатель подтвердил две покупки") && text.includes("оспорено"),
        `the statement does not show the corrections: ${text}`);
    }
    await shot(page, "4c-statement");
    await page.emulateMedia({ media: "print" });
    check(!(await page.locator("header").isVisible()) && !(await page.locator("#statement-month").isVisible()),
      "the printed statement shows the dashboard's header or form");
    await page.screenshot({ path: join(artifacts, "dashboard-4d-statement-print.png"), fullPage: true });
    await page.emulateMedia({ media: "screen" });
  }

  step = "exception queue";
  /* The early leave waits in the exception queue; the manager acknowledges it. */
  await page.goto(`${base}/#/exceptions`);
  const exception = page.locator(`#exceptions tr[data-subject="${visit}"]`, { has: page.locator(".flag.early_leave") });
  await exception.waitFor({ timeout: 10000 });
  /* Its detail: the rating given, and the time spent (seconds, or a minute on a loaded
   * machine) of the norm of the one service done, HH-SHOP×1 (the catalogue's). */
  const norm = catalogue.get("HH-SHOP").norm;
  const detail = await exception.locator("td").nth(2).textContent();
  check(new RegExp(`^оценка ${rating}; \\d+ (с|мин) из ${norm} мин$`).test(detail.trim()),
    `the early leave's detail is ${detail}, want «оценка ${rating}; N с из ${norm} мин»`);
  /* The recipient's rating of it waits too, as a low rating. */
  const low = page.locator(`#exceptions tr[data-subject="${visit}"]`, { has: page.locator(".flag.low_rating") });
  check((await low.locator("td").nth(2).textContent()).includes(`оценка ${rating}`), "the low rating's row does not show the rating");
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
  /* A flag the visit does not have lists nothing: the filter is applied, not only shown
   * (mutant web.filter-flag). */
  await page.goto(`${base}/#/visits?flag=overtime`);
  await page.locator(`tr[data-visit="${visit}"]`).waitFor({ state: "detached", timeout: 10000 });
  await page.locator("main .nodata").waitFor({ timeout: 10000 });
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
    check(await page.locator("main .error:not([hidden])").count() === 0, `the ${name} page shows an error`);
    await shot(page, `6-${name}`);
  }
  {
    step = "devices";
    check(Boolean(spareDevice), "dashboard.sh passed no SPARE_DEVICE");
    /* The manager sees the provider's terminals with their last sync and revokes a spare
     * one (not the agent's) with a reason. */
    await rendered("#/devices");
    const spare = page.locator(`#devices tr[data-device="${spareDevice}"]`);
    await spare.waitFor({ timeout: 10000 });
    const syncs = await page.locator("#devices .last-sync").allTextContents();
    check(syncs.some((t) => t.trim() !== "—"), "no terminal shows a last sync (the agent's has synced)");
    await spare.locator("button.revoke").click();
    await page.locator("#revoke-form textarea[name=reason]").fill("Терминал утерян");
    await page.locator("#revoke-form button[type=submit]").click();
    await page.locator(`#devices tr[data-device="${spareDevice}"][data-status=revoked]`).waitFor({ timeout: 10000 });
    await shot(page, "6b-devices");
  }
  if (has.figures) {
    step = "figures";
    /* The server's figures, not the page's estimate from the visit list. */
    await rendered("#/workers");
    const worker = page.locator(`#workers tr[data-worker="${visitJson.worker_id}"]`);
    await worker.waitFor({ timeout: 10000 });
    /* This month the worker made one visit: ended early, both ends confirmed by card, the
     * early leave acknowledged (not "must fix"), rated $RATING by the recipient. */
    /* Cells by their column's heading, so a new column does not shift what is read. */
    const cells = (await worker.locator("td").allTextContents()).map((t) => t.trim());
    const heads = (await page.locator("#workers thead th").allTextContents()).map((t) => t.trim());
    const cell = (head) => cells[heads.indexOf(head)];
    const want = ["1", "1", "100 %", `${rating},0`, "1", "0 / 0 / 0", "100 %"];
    const got = ["Визиты", "Завершено", "Ранние уходы", "Средняя оценка", "Низкие оценки",
      "Наложения / далеко / переезды", "Соблюдение"].map(cell);
    check(got.join("|") === want.join("|"),
      `the worker's figures are ${got.join(" | ")}, want visits, ended, early leaves, mean rating, low ratings, integrity flags, compliance ${want.join(" | ")}`);
    check(await page.locator(".fallback").count() === 0, "the workers page estimates although the figures API exists");
    await page.locator("#service-chart svg text", { hasText: "HH-SHOP" }).first().waitFor({ timeout: 5000 });
    await rendered("#/ratings");
    check(await page.locator(".fallback").count() === 0, "the ratings page estimates although the figures API exists");
    await page.locator("#day-chart svg").waitFor({ timeout: 5000 });
    const lowRow = page.locator("main table tr", { hasText: ratingComment });
    await lowRow.waitFor({ timeout: 5000 });
    check((await lowRow.locator("td.num").textContent()).trim() === rating, "the low ratings table does not show the rating given");
  }
  if (has.register) {
    step = "register lists the provider";
    const month = visitJson.started_at ? await page.evaluate((t) => {
      const d = new Date(t);
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
    }, visitJson.started_at) : null;
    await rendered(`#/register?month=${month}`);
    const listRow = page.locator(`#registers tr[data-register$="${visitJson.provider_id}"]`);
    await listRow.waitFor({ timeout: 10000 });
    check(await listRow.getAttribute("data-state") === "draft", "this month's register is not a draft");
    await shot(page, "7-registers");
    await listRow.locator("a.open").click();
    await page.locator("#register").waitFor({ timeout: 10000 });
    const registerHash = await page.evaluate(() => location.hash);

    if (has.corrections) {
      step = "register excludes the disputed visit";
      const out = page.locator(`#register-excluded tr[data-visit="${oldVisit}"]`);
      await out.waitFor({ timeout: 10000 });
      check((await out.locator(".reason").textContent()) === "визит оспорен", "the excluded visit's reason is not «визит оспорен»");
      await shot(page, "7b-register-disputed");
      /* The dispute settled, the visit is paid with its corrected quantity. */
      await rendered(`#/visit/${oldVisit}`);
      const dispute = page.locator("#correct-dispute");
      await dispute.locator("textarea[name=reason]").fill("Получатель подтвердил визит по телефону");
      await dispute.locator("button", { hasText: "Снять спор" }).click();
      await page.locator("#corrections li[data-field=disputed]", { hasText: "Спор снят" }).waitFor({ timeout: 10000 });
      check(await page.locator("#visit-badges .badge.disputed").count() === 0, "the visit is still marked disputed");
      await rendered(registerHash);
    }

    step = "register includes the visit";
    const paid = page.locator(`#register-included tr[data-visit="${oldVisit}"]`);
    await paid.first().waitFor({ timeout: 10000 });
    if (has.corrections) check((await paid.first().locator(".qty").textContent()) === "2", "the paid quantity is not the corrected 2");
    check((await paid.first().locator("td").first().textContent()).startsWith("15."), "the paid line is not dated the 15th");
    const total = amount(await page.locator("#register-total").textContent());
    /* The month's only visit: HH-SHOP, corrected to 2, at the catalogue's tariff. */
    const expected = catalogue.get("HH-SHOP").tariff * 2;
    check(total === roubles(expected), `the register's total is ${total} ₽, want ${roubles(expected)} (2 × HH-SHOP)`);
    const lines = await page.locator("#register-included tbody td.amount").allTextContents();
    const sum = lines.reduce((s, t) => s + Math.round(Number(amount(t).replace(",", ".")) * 100), 0);
    check((sum / 100).toFixed(2).replace(".", ",") === total, `the lines add up to ${sum} kopecks, the page total is ${total}`);
    await shot(page, "8-register");

    step = "register csv";
    /* What a Russian-locale spreadsheet opens: BOM, ';', roubles "1234,50", «Итого». */
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#register ~ p a.csv").click()]);
    const csvPath = join(artifacts, "dashboard-register.csv");
    await download.saveAs(csvPath);
    const csv = readFileSync(csvPath);
    check(csv[0] === 0xef && csv[1] === 0xbb && csv[2] === 0xbf, "the register CSV has no UTF-8 BOM");
    const rows = csv.toString("utf8").slice(1).split(/\r?\n/).filter((l) => l.trim());
    check(rows[0].includes(";"), "the register CSV is not ';'-separated");
    const totalRow = rows.find((l) => /^"?Итого/.test(l));
    check(totalRow, "the register CSV has no «Итого» line");
    check(totalRow.replace(/[\s\u00a0"]/g, "").split(";").includes(total), `the CSV's «Итого» (${totalRow}) is not the page's ${total}`);
    check(rows.some((l) => l.includes("HH-SHOP")), "the register CSV does not list the visit's service");

    step = "register json";
    const [jsonDownload] = await Promise.all([page.waitForEvent("download"), page.locator("#register ~ p a.json").click()]);
    const jsonPath = join(artifacts, "dashboard-register.json");
    await jsonDownload.saveAs(jsonPath);
    const exported = JSON.parse(readFileSync(jsonPath, "utf8"));
    check(exported.total_kopecks === expected, `the JSON total ${exported.total_kopecks} is not ${expected} kopecks`);
    console.log(`register: CSV and JSON downloaded, total ${total} ₽ matches the page`);

    step = "register submit";
    check(await page.locator("#register-approve").count() === 0, "a manager is offered «Утвердить»");
    await page.locator("#register-submit", { hasText: "Передать на утверждение" }).click();
    await page.locator('#register[data-state="submitted"]').waitFor({ timeout: 10000 });
    check((await page.locator("#register-history").textContent()).includes(login), "the register does not say who submitted it");
    check(await page.locator("#register-submit").count() === 0, "a submitted register still offers «Передать»");
    await shot(page, "9-register-submitted");
    if (has.corrections) {
      step = "correction while submitted";
      /* The department approves exactly what was submitted: the visit is frozen, and
       * the page says so in Russian. */
      await rendered(`#/visit/${oldVisit}`);
      const form = page.locator("#correct-services");
      await form.locator("input[name=quantity]").first().fill("3");
      await form.locator("textarea[name=reason]").fill("Попытка во время утверждения");
      await form.locator("button[type=submit]").click();
      await page.locator("#correction-message:not([hidden])", { hasText: "реестр оплаты" }).waitFor({ timeout: 10000 });
      check(await page.locator("#corrections li[data-field=services]").count() === 1, "a correction was stored while submitted");
      await shot(page, "9b-correction-refused");
      await rendered(registerHash);
    }

    step = "register return";
    /* The department returns it with a reason typed in the page (no window.prompt);
     * the manager reads the reason and submits again. */
    await page.locator("#logout").click();
    await signInAs(authorityLogin, authorityPassword); /* the same page, now for the department */
    await page.locator('#register[data-state="submitted"]').waitFor({ timeout: 10000 });
    check(await page.locator("#register-submit").count() === 0, "the department is offered «Передать»");
    await page.locator("#register-return", { hasText: "Вернуть на доработку" }).click();
    await page.locator("#return-form textarea").fill("Уточните количество покупок");
    await shot(page, "10-register-return-form");
    await page.locator("#return-form button[type=submit]").click();
    await page.locator('#register[data-state="draft"]').waitFor({ timeout: 10000 });
    check((await page.locator("#register-history").textContent()).includes("Уточните количество покупок"),
      "the returned register does not show the reason");
    await page.locator("#logout").click();
    await signInAs(login, password);
    await page.locator('#register[data-state="draft"]').waitFor({ timeout: 10000 });
    check((await page.locator("#register-history .returned").textContent()).includes("Уточните количество покупок"),
      "the manager does not see why the register came back");
    await shot(page, "10b-register-returned");
    await page.locator("#register-submit").click();
    await page.locator('#register[data-state="submitted"]').waitFor({ timeout: 10000 });

    step = "register approve";
    await page.locator("#logout").click();
    await signInAs(authorityLogin, authorityPassword);
    await page.locator('#register[data-state="submitted"]').waitFor({ timeout: 10000 });
    await page.locator("#register-approve", { hasText: "Утвердить" }).click();
    await page.locator('#register[data-state="approved"]').waitFor({ timeout: 10000 });
    const history = await page.locator("#register-history").textContent();
    check(history.includes("Утверждён") && history.includes(authorityLogin), `the approved register says ${history}`);
    check(await page.locator("#register button").count() + await page.locator(".actions button").count() === 0,
      "an approved register still has buttons");
    check(amount(await page.locator("#register-total").textContent()) === total, "the approved total changed");
    await shot(page, "11-register-approved");

    if (has.corrections) {
      step = "correction after approval";
      /* Approved, the register is final, but the visit's history is not: a correction is
       * recorded (it would count late in a next register) and the approved total stays. */
      await rendered(`#/visit/${oldVisit}`);
      const form = page.locator("#correct-services");
      await form.locator("input[name=quantity]").first().fill("3");
      await form.locator("textarea[name=reason]").fill("Третья покупка, найдена после утверждения");
      await form.locator("button[type=submit]").click();
      await page.locator("#corrections li[data-field=services]", { hasText: "стало HH-SHOP×3" }).waitFor({ timeout: 10000 });
      check((await page.locator("#corrections li[data-field=services]").last().textContent()).includes(authorityLogin),
        "the history does not say the department corrected it");
      await shot(page, "12-corrected-after-approval");
      await rendered(registerHash);
      await page.locator('#register[data-state="approved"]').waitFor({ timeout: 10000 });
      check(amount(await page.locator("#register-total").textContent()) === total, "the approved register changed");
      check((await page.locator(`#register-included tr[data-visit="${oldVisit}"] .qty`).first().textContent()) === "2",
        "the approved register's quantity changed");
    }
  }

  {
    step = "webhooks";
    check(Boolean(hook && adminLogin), "dashboard.sh passed no HOOK / ADMIN_LOGIN");
    /* The department sees the disabled subscription and its delivery log, without the
     * button (only the administrator enables); the administrator enables it with a reason. */
    await page.locator("#logout").click();
    await signInAs(authorityLogin, authorityPassword);
    await rendered("#/webhooks");
    const row = page.locator(`#webhooks tr[data-subscription="${hook}"]`);
    await row.waitFor({ timeout: 10000 });
    check((await row.locator(".status").textContent()).includes("отключена"), "the disabled subscription is not shown as such");
    check(await row.locator("button.enable").count() === 0, "the department is offered the administrator's button");
    await row.locator("a", { hasText: "журнал доставок" }).click();
    await page.locator("main h1", { hasText: "Журнал доставок" }).waitFor({ timeout: 10000 });
    check(await page.locator("main .error:not([hidden])").count() === 0, "the delivery log shows an error");
    await shot(page, "13-webhook-log");
    await page.locator("#logout").click();
    await signInAs(adminLogin, adminPassword);
    await rendered("#/webhooks");
    await row.locator("button.enable").click();
    await page.locator("#enable-form textarea[name=reason]").fill("Приёмник регистра снова работает");
    await page.locator("#enable-form button[type=submit]").click();
    await page.locator(`#webhooks tr[data-subscription="${hook}"][data-enabled=true]`).waitFor({ timeout: 10000 });
    await shot(page, "14-webhooks");
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
