// A webhook receiver for the tests (integration.backend.webhooks): it checks every
// delivery the way api/WEBHOOKS.md tells a receiver to (verify() below is that recipe,
// word for word), logs what came, and misbehaves on command.
//
//   node webhook_receiver.mjs PORTS-FILE
//
// Writes "<hook port> <control port>\n" to PORTS-FILE once both listen (loopback only).
// The hook (POST /hook) answers by mode; the control port (GET /mode?set=M&secret=S,
// GET /log) is never down:
//   ok       200 at once            fail     503 at once
//   slow     200 after 200 ms       timeout  200 after 1500 ms (the sender gave up)
//   down     nothing listens on the hook port (connection refused)
//   answer   200; to an application's export (application.changed, data.exchange
//            "exported") with the central system's answer in the body:
//            {"answer": {"outcome": "accepted", "reference": "ЦР-<number>"}}
//   bad-answer  the same with {"answer": {"outcome": "maybe"}} (not a valid answer)
// A delivery that fails the recipe (bad signature, timestamp outside the window) is
// answered 401 and logged with why, whatever the mode.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";

// ==== The recipe (api/WEBHOOKS.md) ====
export const REPLAY_WINDOW_S = 300;

export function verify(secret, headers, rawBody, nowS = Math.floor(Date.now() / 1000)) {
  const id = headers["x-carefact-delivery"];
  const ts = headers["x-carefact-timestamp"];
  const sig = headers["x-carefact-signature"];
  if (!id || !ts || !sig) return { ok: false, why: "missing header" };
  if (!/^[0-9]{1,12}$/.test(ts)) return { ok: false, why: "bad timestamp" };
  if (Math.abs(nowS - Number(ts)) > REPLAY_WINDOW_S) return { ok: false, why: "outside the replay window" };
  const expected = "v1=" + createHmac("sha256", secret).update(`${ts}.`).update(rawBody).digest("hex");
  const a = Buffer.from(sig), b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, why: "bad signature" };
  return { ok: true, id };
}

// ==== The test receiver ====
let mode = "ok";
let secret = "";
const log = []; // {id, position, kind, subject_id, order_key?, verified, why, answered, at}
const sockets = new Set();

function hook(req, res) {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const raw = Buffer.concat(chunks);
    const check = verify(secret, req.headers, raw);
    let body = {};
    try { body = JSON.parse(raw.toString("utf8")); } catch { /* logged as is */ }
    const change = body.change || {};
    const entry = {
      id: req.headers["x-carefact-delivery"] || "", body_id: body.delivery_id || "",
      position: change.position || "", kind: change.kind || "", subject_id: change.subject_id || "",
      number: change.data?.number ?? null, verified: check.ok, why: check.why || "",
      mode, at: Date.now(),
    };
    log.push(entry);
    const answer = (status) => { if (!res.destroyed) { res.writeHead(status); res.end(); } entry.answered = status; };
    if (!check.ok) return answer(401);
    if (mode === "fail") return answer(503);
    if (mode === "slow") return setTimeout(() => answer(200), 200);
    if (mode === "timeout") return setTimeout(() => answer(200), 1500);
    const exported = change.kind === "application.changed" && change.data?.exchange === "exported";
    if ((mode === "answer" || mode === "bad-answer") && exported) {
      const reply = mode === "answer"
        ? { answer: { outcome: "accepted", reference: `ЦР-${change.data.number}` } }
        : { answer: { outcome: "maybe" } };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(reply));
      entry.answered = 200;
      return;
    }
    return answer(200);
  });
}

let hookServer = null;
let hookPort = 0;
function listenHook(port, then) {
  hookServer = createServer(hook);
  hookServer.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  hookServer.listen(port, "127.0.0.1", () => { hookPort = hookServer.address().port; then(); });
}

function control(req, res) {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/mode") {
    const next = url.searchParams.get("set") || mode;
    if (url.searchParams.has("secret")) secret = url.searchParams.get("secret");
    const reply = () => { res.writeHead(200, { "content-type": "text/plain" }); res.end(mode); };
    if (next === "down" && mode !== "down") {
      mode = "down";
      hookServer.close();
      for (const s of sockets) s.destroy();
      return reply();
    }
    if (next !== "down" && mode === "down") {
      mode = next;
      return listenHook(hookPort, reply);
    }
    mode = next;
    return reply();
  }
  if (url.pathname === "/log") {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(log));
  }
  res.writeHead(404);
  res.end();
}

if (process.argv[2]) {
  const portsFile = process.argv[2];
  listenHook(0, () => {
    const ctl = createServer(control);
    ctl.listen(0, "127.0.0.1", () => {
      writeFileSync(portsFile + ".tmp", `${hookPort} ${ctl.address().port}\n`);
      // rename: the test never reads half a line
      import("node:fs").then((fs) => fs.renameSync(portsFile + ".tmp", portsFile));
    });
  });
}
