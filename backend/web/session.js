/* Signing in to the dashboard. carefactd keeps the session in an HttpOnly cookie
 * (the page never sees it); the CSRF token it hands out with the session is kept in
 * memory only and sent back in X-CSRF-Token on every state-changing request. Text
 * shown is Russian. */

let csrf = "";
let user = null;

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/* fetch options with the session: same-origin cookie, and the CSRF token unless GET. */
export function withSession(options = {}) {
  const method = (options.method || "GET").toUpperCase();
  const headers = { ...(options.headers || {}) };
  if (method !== "GET" && method !== "HEAD" && csrf) headers["X-CSRF-Token"] = csrf;
  return { ...options, credentials: "same-origin", headers };
}

export function currentUser() {
  return user;
}

function remember(body) {
  csrf = body?.csrf_token || "";
  user = body?.user || null;
  return user;
}

/* The signed-in user, or null when there is no valid session. */
export async function whoami() {
  try {
    const res = await fetch("/api/v1/session", { credentials: "same-origin" });
    return res.ok ? remember(await res.json()) : remember(null);
  } catch (e) {
    return remember(null);
  }
}

/* Show the sign-in form in container; calls onSignedIn(user) after a successful login. */
export function showLogin(container, onSignedIn, message = "") {
  container.innerHTML = `
    <h1>Вход</h1>
    <form id="login-form" class="login">
      <label>Логин <input name="login" autocomplete="username" required maxlength="64"></label>
      <label>Пароль <input name="password" type="password" autocomplete="current-password" required maxlength="256"></label>
      <button type="submit">Войти</button>
      <p id="login-message" class="error" role="alert">${esc(message)}</p>
    </form>`;
  const form = container.querySelector("#login-form");
  form.querySelector("input[name=login]").focus();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const say = (text) => { form.querySelector("#login-message").textContent = text; };
    const data = new FormData(form);
    let res;
    try {
      res = await fetch("/api/v1/session", {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ login: data.get("login"), password: data.get("password") }),
      });
    } catch (err) {
      say("Сервер недоступен");
      return;
    }
    const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (res.ok) {
      onSignedIn(remember(body));
    } else if (res.status === 429) {
      say(`Слишком много неудачных попыток. Повторите через ${body?.retry_after_s ?? "несколько"} с.`);
    } else if (res.status === 401) {
      say("Неверный логин или пароль");
    } else {
      say(body?.detail || `Ошибка сервера (${res.status})`);
    }
  });
}

export async function logout() {
  try {
    await fetch("/api/v1/session", withSession({ method: "DELETE" }));
  } finally {
    remember(null);
  }
}
