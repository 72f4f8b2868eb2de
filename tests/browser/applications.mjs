/* The browser half of tests/browser/applications.sh: Playwright (playwright-core) driving
 * Debian's Chromium headless against a real carefactd with the demo data. Each person
 * signs in and lands where their role works (staff: the applications journal), and
 * presses only the buttons the page offers their role: the intake takes an application
 * in at the office, attaches a scan (a PNG: listed, downloaded as itself, named on the
 * printable form) and passes it on, the lead returns it with a reason typed in the
 * page, the intake passes it on again, the lead verifies it, the caseworker takes it and
 * approves it with a programme (provider 1, HH-SHOP, worker 1: Monday, Wednesday and
 * Friday at 10:00, and a second rule, the other days at 15:00: a plan every day, today's
 * too), and the provider's manager sees the certificate and the plans of the next 14 days
 * (each weekday comes twice in 14 days: (3 + 4) × 2 = 14) and accepts it. Then the shell
 * plays the first visit on the terminal with the emulated card (it waits for the file
 * "approved" in $WORK, holding the number, and writes "visited"), and the citizen's status
 * page of the office's application says approved, and the caseworker's funnel shows the
 * office's first visit and the days from filing to it (0: filed and visited today). Before
 * that, a citizen files on the public form (Russian messages under the fields, the first
 * wrong one focused, every field reached by its label) and reads the status page. Prints
 * "application <number>" for the shell's checks in the database. */
import { chromium } from "playwright-core";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const { URL: base, ARTIFACTS: artifacts, STAFF_PASSWORD: staffPassword, MANAGER_PASSWORD: managerPassword,
  PROVIDER: provider, WORKER: worker, WORK: work, OFFICE: office, MONTH: month } = process.env;
const shot = (page, name) => page.screenshot({ path: join(artifacts, `applications-${name}.png`), fullPage: true });
function check(condition, message) {
  if (!condition) throw new Error(message);
}

const args = process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args });
const page = await browser.newPage({ locale: "ru-RU", viewport: { width: 1280, height: 1000 } });
const scriptErrors = [];
page.on("pageerror", (e) => scriptErrors.push(e.message));
page.on("console", (m) => {
  if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) scriptErrors.push(m.text());
});

async function signInAs(login, password) {
  if (await page.locator("#logout").count()) await page.locator("#logout").click();
  else await page.goto(`${base}/`);
  const form = page.locator("#login-form");
  await form.waitFor({ timeout: 15000 });
  await form.locator("input[name=login]").fill(login);
  await form.locator("input[name=password]").fill(password);
  await form.locator("button[type=submit]").click();
  await page.locator("#user", { hasText: login }).waitFor({ timeout: 10000 });
}

/* Wait for the shell to write file name in $WORK (it plays the visit meanwhile). */
async function waitFile(name) {
  for (let i = 0; i < 1800; i++) {
    if (existsSync(join(work, name))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the shell never wrote ${name}`);
}

/* Open the application's page and wait for its state. */
async function openApplication(id, state) {
  await page.goto(`${base}/#/application/${id}`);
  await page.locator(`#application[data-state="${state}"]`).waitFor({ timeout: 15000 });
}

/* Press the button for `to` (a reason typed when the page asks) and wait for the state. */
async function move(to, reason = "") {
  await page.locator(`#application-actions button[data-to="${to}"]`).click();
  if (reason) {
    await page.locator("#reason-form textarea").fill(reason);
    await page.locator("#reason-form button[type=submit]").click();
  }
  await page.locator(`#application[data-state="${to}"]`).waitFor({ timeout: 15000 });
}

const buttons = async () => page.locator("#application-actions button").evaluateAll((b) => b.map((x) => x.dataset.to).sort().join(","));

let step = "citizen files";
try {
  /* The citizen's form: no sign-in; errors in Russian under each field, the first one
   * focused; then filed, with the number and the code shown once. */
  await page.goto(`${base}/web/apply.html`);
  const apply = page.locator("#apply-form");
  await apply.locator("#office_id option").nth(1).waitFor({ state: "attached", timeout: 10000 });
  check(!(await apply.locator("#office_id").textContent()).includes("Департамент"), "the back office is offered to citizens");
  await apply.locator("button[type=submit]").click();
  await page.locator("#applicant_name-error", { hasText: "Укажите фамилию" }).waitFor({ timeout: 5000 });
  check(await page.evaluate(() => document.activeElement?.id) === "applicant_name", "the first wrong field is not focused");
  check(await page.locator("#consent-error", { hasText: "согласия" }).isVisible(), "no message about consent");
  /* filled from the keyboard: every field has its label */
  await page.getByLabel("Фамилия, имя, отчество *").fill("Орлова Вера Николаевна");
  await page.getByLabel("Дата рождения *").fill("1944-03-08");
  await page.getByLabel("Адрес, где нужны услуги *").fill("д. Кубенское, ул. Школьная, д. 2");
  await page.getByLabel("Кто вы *").selectOption("elderly");
  await page.getByLabel("Какая помощь нужна *").selectOption("rehab_aid");
  await page.getByLabel("Опишите своими словами").fill("Нужны ходунки на два месяца");
  await page.getByLabel("Куда подать *").selectOption({ index: 1 });
  await page.getByLabel(/согласна\) на обработку/).check();
  await apply.locator("button[type=submit]").click();
  await page.locator("#filed").waitFor({ timeout: 10000 });
  const citizenNumber = (await page.locator("#filed-number").textContent()).trim();
  const citizenCode = (await page.locator("#filed-code").textContent()).trim();
  check(/^\d{10}$/.test(citizenCode), `no code shown: ${citizenCode}`);
  await shot(page, "0-citizen-filed");

  step = "citizen reads the status";
  await page.goto(`${base}/web/status.html`);
  await page.getByLabel(/Номер заявления/).fill(citizenNumber);
  await page.getByLabel(/Код из 10 цифр/).fill("0000000000");
  await page.locator("#status-form button[type=submit]").click();
  await page.locator("#number-error", { hasText: "не найдено" }).waitFor({ timeout: 10000 });
  await page.getByLabel(/Код из 10 цифр/).fill(citizenCode);
  await page.locator("#status-form button[type=submit]").click();
  await page.locator('#status-state[data-state="submitted"]').waitFor({ timeout: 10000 });
  check((await page.locator("#status-next").textContent()).includes("Решение — до"), "no next step with its date");
  check(!(await page.locator("#status").textContent()).includes("Орлова"), "the status page shows personal data");
  await shot(page, "0-citizen-status");

  step = "intake signs in";
  await signInAs("intake1", staffPassword);
  /* staff land on the journal, and see no provider's pages */
  await page.locator("main h1", { hasText: "Журнал заявлений" }).waitFor({ timeout: 15000 });
  check(await page.locator('#nav a[data-page="today"]').count() === 0, "the intake's bar offers the visits pages");

  step = "intake files at the office";
  await page.locator("#new-application").click();
  const form = page.locator("#intake-form");
  await form.waitFor({ timeout: 10000 });
  await form.locator("input[name=applicant_name]").fill("Белова Антонина Петровна");
  await form.locator("input[name=applicant_birth_date]").fill("1939-11-02");
  await form.locator("input[name=applicant_address]").fill("г. Вологда, ул. Мира, д. 7, кв. 3");
  await form.locator("textarea[name=details]").fill("Покупка продуктов три раза в неделю");
  await form.locator("input[name=complete]").check();
  /* without consent it is not taken */
  await form.locator("button[type=submit]").click();
  await page.locator("#intake-message", { hasText: "согласия" }).waitFor({ timeout: 5000 });
  await form.locator("input[name=consent]").check();
  await form.locator("button[type=submit]").click();
  const number = (await page.locator("#filed-number").textContent({ timeout: 10000 })).trim();
  check(/^\d{4}-\d{6,}$/.test(number), `no application number shown: ${number}`);
  const code = (await page.locator("#filed-code").textContent()).trim();
  check(/^\d{10}$/.test(code), "no 10-digit code shown");
  await shot(page, "1-filed");
  await page.locator("#filed-open").click();
  await page.locator('#application[data-state="draft"]').waitFor({ timeout: 10000 });
  const id = await page.locator("#application").getAttribute("data-id");
  check(await buttons() === "submitted,withdrawn", `the intake's buttons on a draft: ${await buttons()}`);

  step = "intake attaches a scan and opens the printable form";
  const png = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
    "1f15c4890000000b4944415478 9c636000020000050001 7a5eab3f0000000049454e44ae426082".replace(/ /g, ""), "hex");
  await page.locator("#document-form select").selectOption("passport");
  await page.locator("#document-form input[type=file]").setInputFiles({ name: "паспорт.png", mimeType: "image/png", buffer: png });
  await page.locator("#document-form button[type=submit]").click();
  await page.locator("#documents a.download", { hasText: "паспорт.png" }).waitFor({ timeout: 10000 });
  const printed = await page.request.get(await page.locator("#application-print").evaluate((a) => a.href));
  check(printed.status() === 200 && (await printed.text()).includes("паспорт.png"), "the printable form does not list the scan");
  const scan = await page.request.get(await page.locator("#documents a.download").evaluate((a) => a.href));
  check(scan.status() === 200 && scan.headers()["content-type"] === "image/png" && (await scan.body()).equals(png),
        "the scan does not download as the PNG attached");
  await shot(page, "1b-document");
  await page.goto(await page.locator("#application-print").evaluate((a) => a.href));
  check(await page.locator("h1", { hasText: number }).count() === 1, "the printable form does not show the number");
  await shot(page, "1c-form");
  await openApplication(id, "draft");
  await move("submitted");

  step = "lead returns it with a reason";
  await signInAs("lead1", staffPassword);
  await page.goto(`${base}/#/applications?state=submitted`);
  await page.locator(`#applications tr[data-application="${id}"]`).waitFor({ timeout: 15000 });
  await openApplication(id, "submitted");
  check(await buttons() === "returned,verified,withdrawn", `the lead's buttons: ${await buttons()}`);
  /* a return needs a reason */
  await page.locator('#application-actions button[data-to="returned"]').click();
  await page.locator("#reason-form button[type=submit]").click();
  await page.locator("#application-message", { hasText: "Укажите причину" }).waitFor({ timeout: 5000 });
  await page.locator("#reason-form textarea").fill("Нет справки о составе семьи");
  await page.locator("#reason-form button[type=submit]").click();
  await page.locator('#application[data-state="returned"]').waitFor({ timeout: 15000 });
  check((await page.locator("#application-reason").textContent()).includes("Нет справки о составе семьи"), "the reason is not shown");
  await page.locator('#application-journal li[data-to="returned"]', { hasText: "Нет справки о составе семьи" }).waitFor();
  await shot(page, "2-returned");

  step = "intake resubmits";
  await signInAs("intake1", staffPassword);
  await openApplication(id, "returned");
  await move("resubmitted");

  step = "lead verifies";
  await signInAs("lead1", staffPassword);
  await openApplication(id, "resubmitted");
  await move("verified");

  step = "caseworker approves with a programme";
  await signInAs("case1", staffPassword);
  await openApplication(id, "verified");
  await move("assessment");
  await page.locator('#application-actions button[data-to="approved"]').click();
  const approval = page.locator("#approval-form");
  await approval.waitFor({ timeout: 10000 });
  await approval.locator("select[name=provider]").selectOption(provider);
  await approval.locator('tr[data-code="HH-SHOP"] input[name=service]').check();
  await approval.locator('tr[data-code="HH-SHOP"] input[name=volume]').fill("12");
  const first = approval.locator("fieldset.rule").nth(0);
  for (const day of ["1", "3", "5"]) await first.locator(`input[name=weekday][value="${day}"]`).check();
  await first.locator("input[name=time]").fill("10:00");
  await first.locator("select[name=worker]").selectOption(worker);
  /* a second rule: the other days at 15:00 (so today has a plan the terminal can visit) */
  await approval.locator("#rule-add").click();
  const second = approval.locator("fieldset.rule").nth(1);
  for (const day of ["2", "4", "6", "7"]) await second.locator(`input[name=weekday][value="${day}"]`).check();
  await second.locator("input[name=time]").fill("15:00");
  await second.locator("select[name=worker]").selectOption(worker);
  /* adding the second rule must not reset the first one's worker (it did: on Mondays,
   * Wednesdays and Fridays today's plan went to another worker's terminal) */
  check((await first.locator("select[name=worker]").inputValue()) === worker, "adding a rule reset the first rule's worker");
  await shot(page, "3-programme");
  await approval.locator("button[type=submit]").click();
  await page.locator('#application[data-state="approved"]').waitFor({ timeout: 15000 });
  check((await page.locator("#programme-certificate").textContent()).trim() === number, "the certificate is not shown");
  await page.locator('#application-journal li[data-to="approved"]').waitFor();
  await shot(page, "4-approved");

  step = "manager sees the certificate and the plans, accepts";
  await signInAs("manager1", managerPassword);
  await page.goto(`${base}/#/programmes`);
  const row = page.locator("#programmes tr[data-programme]", { hasText: number });
  await row.waitFor({ timeout: 15000 });
  check((await row.locator("td.plans").textContent()).trim() === "14", `plans shown: ${await row.locator("td.plans").textContent()}`);
  check((await row.textContent()).includes("Белова Антонина Петровна"), "the recipient is not shown");
  await row.locator("button.accept").click();
  await page.locator('#programmes tr[data-accepted="1"]', { hasText: number }).waitFor({ timeout: 15000 });
  await shot(page, "5-accepted");

  step = "the first visit on the terminal (the shell)";
  writeFileSync(join(work, "approved"), `${number}\n`);
  await waitFile("visited");

  step = "the citizen reads the status after the visit";
  await signInAs("case1", staffPassword); /* the manager signs out first */
  await page.goto(`${base}/web/status.html`);
  await page.getByLabel(/Номер заявления/).fill(number);
  await page.getByLabel(/Код из 10 цифр/).fill(code);
  await page.locator("#status-form button[type=submit]").click();
  await page.locator('#status-state[data-state="approved"]').waitFor({ timeout: 10000 });
  await shot(page, "6-status-approved");

  step = "the caseworker reads the funnel";
  await page.goto(`${base}/#/applications`);
  await page.locator("#open-funnel").click();
  await page.locator("#funnel-filters").waitFor({ timeout: 15000 });
  await page.goto(`${base}/#/applications-funnel?month=${month}`);
  const officeRow = page.locator(`#funnel tr[data-office="${office}"]`);
  await officeRow.waitFor({ timeout: 15000 });
  const cell = async (name) => (await officeRow.locator(`td.${name}`).textContent()).trim();
  /* the office's application, and the citizen's if it chose this office */
  check(/^[12]$/.test(await cell("submitted")), `office's applications filed: ${await cell("submitted")}`);
  check((await cell("approved")).startsWith("1 "), `approved: ${await cell("approved")}`);
  check((await cell("first-visit")).startsWith("1 "), `first visits: ${await cell("first-visit")}`);
  check((await cell("returned")) === "1 / 1", `returned / returns: ${await cell("returned")}`);
  check((await cell("days-median")) === "0" && (await cell("days-p90")) === "0",
    `days to the first visit: ${await cell("days-median")}, ${await cell("days-p90")}`);
  check((await page.locator("#days-median").textContent()).trim() === "0", "the summary's median is not 0 days");
  await shot(page, "7-funnel");

  check(scriptErrors.length === 0, `script errors: ${scriptErrors.join("; ")}`);
  console.log(`application ${number}`);
} catch (e) {
  await shot(page, "failed").catch(() => {});
  console.error(`FAIL at step "${step}": ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
