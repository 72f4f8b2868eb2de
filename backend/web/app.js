/* carefact manager dashboard: a hash-routed single page over the carefactd API.
 * This module holds the router, the live stream and signing in; the pages live in
 * their own modules, listed one line each in pages.js (overview.js: today, visits,
 * exceptions; visit.js: one visit, its corrections, the recipient's statement;
 * figures.js: workers, ratings; register.js: the payment register; applications.js: the
 * applications journal, one application, the provider's programmes). Parts of the API
 * that this server does not have yet answer 404; their views then say "нет данных"
 * instead of breaking. All text shown is Russian. */
import { PAGE_LIST } from "./pages.js";
import { currentUser, logout, showLogin, whoami } from "./session.js";
import { esc, minutes, setUnauthorizedHandler } from "./util.js";

const main = document.getElementById("main");

/* ==== Router and live updates ==== */

/* Each page of pages.js from its module's `pages` (render, after, live, tab), and the
 * navigation bar from those that have a label there. */
const PAGES = {};
const modules = await Promise.all(PAGE_LIST.map((p) => import(p.module)));
PAGE_LIST.forEach((p, i) => {
  PAGES[p.name] = modules[i].pages[p.name];
});
/* The application staff (front and back office) see no provider's visits: their pages
 * are the applications, where they land after signing in. */
const STAFF_ROLES = ["intake", "intake_lead", "caseworker"];
const isStaff = () => STAFF_ROLES.includes(currentUser()?.role);
const PROVIDER_PEOPLE = ["manager", "authority", "admin", "worker"];
const mayOpen = (p) => (p.roles || PROVIDER_PEOPLE).includes(currentUser()?.role);

/* The navigation bar: the pages with a label that the signed-in role may open. */
function showNav() {
  document.getElementById("nav").innerHTML = currentUser() ? PAGE_LIST.filter((p) => p.nav && mayOpen(p))
    .map((p) => `<a href="#/${esc(p.name)}" data-page="${esc(p.name)}">${esc(p.nav)}</a>`).join("\n") : "";
}

function route() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, arg] = path.split("/");
  const home = isStaff() ? "applications" : "today";
  return { name: PAGES[name] ? name : home, arg: arg ? decodeURIComponent(arg) : "", params: new URLSearchParams(query || "") };
}

let renderSeq = 0;
async function render() {
  const seq = ++renderSeq;
  const { name, arg, params } = route();
  const tab = PAGES[name].tab || name;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === tab);
  const html = await PAGES[name].render(params, arg);
  if (seq !== renderSeq) return; /* a newer render started meanwhile */
  main.innerHTML = html;
  PAGES[name].after?.(render);
  document.body.dataset.rendered = String(seq);
}

let refreshTimer = null;
function refreshSoon() {
  if (!PAGES[route().name].live) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(render, 200);
}

function connectStream() {
  const badge = document.getElementById("live");
  const stream = new EventSource("/api/v1/stream");
  /* "ready" comes on every (re)connection: whatever happened meanwhile is re-read. */
  stream.addEventListener("ready", () => {
    badge.className = "live on";
    badge.textContent = "в реальном времени";
    refreshSoon();
  });
  stream.addEventListener("events", refreshSoon);
  stream.onerror = () => {
    badge.className = "live off";
    badge.textContent = "нет связи";
  };
}

/* Elapsed time of live visits moves every second without asking the server. */
setInterval(() => {
  for (const el of document.querySelectorAll(".elapsed[data-started]"))
    el.textContent = minutes((Date.now() - Date.parse(el.dataset.started)) / 1000);
}, 1000);

/* Who is signed in, with a way out, in the header. */
function showUser() {
  showNav();
  document.getElementById("live").hidden = isStaff(); /* no live stream for staff */
  const box = document.getElementById("user");
  const user = currentUser();
  box.innerHTML = user ? `${esc(user.login)} <button id="logout" class="plain">Выйти</button>` : "";
  document.getElementById("logout")?.addEventListener("click", async () => {
    await logout();
    signIn();
  });
}

let streaming = false;
function signIn(message = "") {
  showUser();
  showLogin(main, () => {
    showUser();
    render();
    if (!streaming && !isStaff()) {
      streaming = true;
      connectStream();
    }
  }, message);
}

setUnauthorizedHandler(signIn);
window.addEventListener("hashchange", () => currentUser() && render());
whoami().then((user) => {
  if (!user) return signIn();
  showUser();
  render();
  if (isStaff()) return; /* the live stream carries visits, which staff do not see */
  streaming = true;
  connectStream();
});
