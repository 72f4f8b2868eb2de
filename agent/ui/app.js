// The touch UI of carefact-agent (agent/README.md, "The touch UI"). Plain JS, no
// build step, no network but the local daemon that served it. Every step calls the
// daemon's JSON API (/api/...), which runs the agent's own visit library; the page
// keeps no record of its own. Every word the worker or the recipient reads is in
// Russian, here; every prompt is also spoken by the daemon (espeak-ng) when the
// sound is on.
'use strict';

const TAP_WAIT_MS = 1500; // one /api/tap call; the page asks again while it waits

const STATE_TEXT = {
  planned: 'запланирован',
  started: 'идёт',
  ended: 'завершён, без оценки',
  rated: 'завершён',
  cancelled: 'отменён',
  attempted: 'не застал дома',
};

// reason, who cancelled (for a cancellation), the words
const ATTEMPT_REASONS = [
  ['nobody_home', null, 'Никого нет дома'],
  ['refused', null, 'Не открыли, отказ'],
  ['in_hospital', null, 'Получатель в больнице'],
  ['other', null, 'Другая причина'],
];
const CANCEL_REASONS = [
  ['refused', 'recipient', 'Получатель отказался'],
  ['in_hospital', 'recipient', 'Получатель в больнице'],
  ['worker_ill', 'worker', 'Работник заболел'],
  ['other', 'provider', 'Другая причина'],
];
const FACES = [
  [1, 'Очень плохо'],
  [2, 'Плохо'],
  [3, 'Нормально'],
  [4, 'Хорошо'],
  [5, 'Отлично'],
];

// The answers of the server's question kinds in plain words (sql/0026: the values
// survey_record takes); the questions themselves come from the server's instrument.
const SURVEY_CHOICES = {
  scale5: [['1', '1 — очень плохо'], ['2', '2 — плохо'], ['3', '3 — удовлетворительно'],
    ['4', '4 — хорошо'], ['5', '5 — отлично']],
  choice3: [['fully', 'Да, полностью'], ['partly', 'Частично'], ['no', 'Нет']],
  yes_no: [['yes', 'Да'], ['no', 'Нет']],
};

let state = null; // the daemon's last /api/state
let speechOn = true;
let tapLoop = 0; // bumped to stop a card wait

// ==== Talking to the daemon ====

async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.headers['X-Carefact-UI'] = '1';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    return { ok: false, message: 'Программа терминала не отвечает. Подождите и повторите.' };
  }
  if (res.status === 403) {
    noAccess();
    return { ok: false, message: 'Нет доступа.' };
  }
  try {
    return await res.json();
  } catch (e) {
    return { ok: false, message: 'Программа терминала ответила непонятно. Повторите.' };
  }
}

function say(text) {
  if (speechOn && text) api('POST', '/api/say', { text });
}

// ==== Building the page ====

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'onclick') el.addEventListener('click', v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false && v != null) el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c.nodeType ? c : document.createTextNode(String(c)));
  }
  return el;
}

function button(text, onclick, cls, extra) {
  return h('button', Object.assign({ type: 'button', class: cls || '', onclick }, extra || {}), text);
}

// Show a screen: title (also spoken), its parts; recipient = the high-contrast
// screens handed to the recipient.
function show(name, title, parts, opts) {
  const o = opts || {};
  document.body.className = o.recipient ? 'recipient' : '';
  document.body.dataset.screen = name;
  const main = document.getElementById('screen');
  main.replaceChildren(h('h1', { id: 'title' }, title), ...parts.filter((p) => p != null));
  main.setAttribute('aria-labelledby', 'title');
  main.focus();
  say(o.speak || title);
}

function time(ms) {
  if (!ms) return '';
  return new Date(ms).toLocaleTimeString('ru-RU', { hour: '2-digit', minute: '2-digit' });
}

function plural(n, one, few, many) {
  const a = n % 100, b = n % 10;
  if (a >= 11 && a <= 14) return many;
  if (b === 1) return one;
  if (b >= 2 && b <= 4) return few;
  return many;
}

function minutesText(n) {
  return `${n} ${plural(n, 'минута', 'минуты', 'минут')}`;
}

// ==== The sync line (always on top) ====

function renderSync() {
  const el = document.getElementById('sync');
  const s = state && state.sync;
  if (!s) return;
  const parts = [];
  parts.push(s.waiting > 0 ? `Ждут отправки: ${s.waiting}` : 'Всё отправлено');
  parts.push(s.last_sync_ms ? `последняя отправка в ${time(s.last_sync_ms)}` : 'ещё не отправлялось');
  if (s.held) parts.push(`отправка остановлена: ${s.message}`);
  else if (s.offline) parts.push('нет связи с сервером');
  el.textContent = parts.join(' · ');
  el.classList.toggle('offline', !!(s.offline || s.held));
  el.dataset.waiting = String(s.waiting);
  el.dataset.offline = s.offline ? '1' : '0';
}

async function refresh() {
  const s = await api('GET', '/api/state');
  if (s && s.plans) {
    state = s;
    speechOn = !!s.speech;
    renderSpeech();
    renderSync();
  }
  return state;
}

function renderSpeech() {
  const b = document.getElementById('speech');
  b.textContent = speechOn ? 'Звук: вкл.' : 'Звук: выкл.';
  b.setAttribute('aria-pressed', speechOn ? 'true' : 'false');
}

// ==== Home: today's plan, the next visit on top ====

function notice(text, cls) {
  return text ? h('p', { class: cls || 'notice', role: 'status' }, text) : null;
}

async function home(message, cls) {
  tapLoop++;
  await refresh();
  if (!state) return;
  const parts = [notice(message, cls)];
  const open = state.open;
  if (open) {
    parts.push(h('section', { class: 'open', 'aria-labelledby': 'open-title', id: 'open-visit' },
      h('h2', { id: 'open-title' }, `Идёт визит: ${open.recipient}`),
      h('p', {}, `Начат в ${time(open.started_ms)}, идёт ${minutesText(open.minutes)}.`),
      h('div', { class: 'actions' },
        button('Завершить', () => chooseServices(), 'primary', { id: 'end-visit' }),
        button('Отменить визит', () => chooseReason('cancel-open', null), 'danger'))));
  }
  const waiting = state.plans.filter(p => p.state === 'planned' || p.state === 'attempted');
  const done = state.plans.filter(p => !(p.state === 'planned' || p.state === 'attempted'));
  parts.push(h('h2', {}, 'План на сегодня'));
  if (!state.plans.length) parts.push(h('p', {}, 'Запланированных визитов нет.'));
  const list = h('ul', { class: 'plain', id: 'plans' });
  waiting.forEach((p, i) => list.append(planItem(p, i === 0 && !open)));
  done.forEach(p => list.append(planItem(p, false)));
  parts.push(list);
  (state.trips || []).forEach(t => parts.push(tripSection(t)));
  parts.push(h('div', { class: 'actions' },
    button('Визит без плана', () => chooseRecipient('unplanned'), '', { id: 'unplanned' }),
    button('Привязать карту', () => chooseRecipient('bind'), '', { id: 'bind' }),
    button('Отметить приход в офис', () => checkIn(), '', { id: 'check-in' })));
  const title = open ? 'Визит идёт' : 'Сегодняшние визиты';
  show('home', title, parts, { speak: message || title });
}

/* A brigade trip the worker goes on (issue 16): its day, the villages in order with their
 * times and the people booked in each, the partners; held offline with the reference data. */
const TRIP_KINDS = { home_survey: 'обследование на дому', aid_handover: 'выдача средства реабилитации' };
function tripSection(t) {
  const [y, m, d] = t.day.split('-');
  const section = h('section', { class: 'trip', 'data-trip': t.id },
    h('h2', {}, `Выезд бригады ${d}.${m}.${y}: ${t.title}`));
  const villages = h('ol', { class: 'settlements' });
  for (const s of t.settlements) {
    const li = h('li', {}, `${s.arrives}–${s.leaves} ${s.name}${s.place ? ` (${s.place})` : ''}`);
    const booked = t.appointments.filter(a => a.settlement === s.position);
    if (booked.length) {
      const ul = h('ul', {});
      booked.forEach(a => ul.append(h('li', {}, `${a.time} ${a.person_name}, ${a.phone} — ${TRIP_KINDS[a.kind] || a.kind}`)));
      li.append(ul);
    }
    villages.append(li);
  }
  section.append(villages);
  if (t.partners.length) {
    section.append(h('p', {}, `С бригадой: ${t.partners.map(p => (p.activity ? `${p.name} — ${p.activity}` : p.name)).join('; ')}.`));
  }
  return section;
}

function planItem(p, next) {
  const free = p.state === 'planned' || p.state === 'attempted';
  const li = h('li', { class: `plan${next ? ' next' : ''}${free ? '' : ' done'}`, 'data-plan': p.plan_id });
  const label = [h('span', { class: 'time' }, time(p.planned_ms)), p.recipient,
    h('span', { class: 'state' }, next ? ' — следующий' : ` — ${STATE_TEXT[p.state] || p.state}`)];
  if (free && !(state && state.open)) {
    li.append(button(label, () => startPlanned(p), 'wide start primary'));
    li.append(h('div', { class: 'row' },
      button('Не застал', () => chooseReason('attempt', p), 'small'),
      button('Отменить', () => chooseReason('cancel', p), 'small danger')));
  } else {
    li.append(h('p', {}, ...label));
  }
  return li;
}

function noAccess() {
  tapLoop++;
  show('denied', 'Нет доступа', [h('p', {}, 'Откройте терминал заново с его ярлыка.')]);
}

// ==== Waiting for a card ====

// What a tap confirms, by the screen that waits for it: the daemon has the card sign
// the challenge of that event (its proof belongs to it; api/PROTOCOL.md 4.5).
const TAP_FOR = { 'tap-start': 'start', confirm: 'end', 'tap-bind': 'bind', 'tap-check-in': 'checkin' };

// Show the prompt and ask the daemon for a card until one is tapped; then run
// then(tap). The screen's cancel button stops the wait.
function waitCard(name, title, lines, then, opts) {
  const loop = ++tapLoop;
  const status = h('p', { role: 'status', id: 'tap-status' }, '');
  show(name, title, [
    h('div', { class: 'tap' }, ...lines, h('p', { class: 'big' }, 'Приложите карту к терминалу')),
    status,
    h('div', { class: 'actions' }, button('Отмена', () => home(), '', { id: 'tap-cancel' })),
  ], Object.assign({ speak: [title, ...lines.map(l => l.textContent || l), 'Приложите карту к терминалу'].join('. ') }, opts || {}));
  (async () => {
    while (loop === tapLoop) {
      const r = await api('POST', '/api/tap', { wait_ms: TAP_WAIT_MS, for: TAP_FOR[name] || 'none' });
      if (loop !== tapLoop) return;
      if (r.ok) {
        status.textContent = 'Карта прочитана…';
        await then(r.tap);
        return;
      }
      if (r.error !== 'no_card') {
        status.textContent = r.message;
        say(r.message);
        await new Promise(res => setTimeout(res, 800));
      }
    }
  })();
}

// ==== Start ====

function startPlanned(p) {
  waitCard('tap-start', `Визит: ${p.recipient}`, [h('p', {}, 'Получатель прикладывает свою карту.')],
    tap => startWith({ plan_id: p.plan_id, tap }, p.recipient));
}

async function startWith(req, name) {
  const r = await api('POST', '/api/visit/start', req);
  if (r.ok) {
    const cert = r.view && r.view.certificate_valid ? `Сертификат № ${r.view.certificate} действует до ${r.view.valid_to}.` : 'Действующего сертификата нет.';
    const extra = r.card_matches === false ? ' Карта другого получателя: несовпадение записано.' : '';
    return home(`Визит начат: ${r.view.recipient}. ${cert}${extra}`);
  }
  if (r.error === 'card_other_recipient' || r.error === 'card_ambiguous') return mismatch(req, name, r);
  if (r.error === 'card_unrecognized') return unknownCard(req, name);
  return home(r.message, 'warning');
}

// A card of another recipient: the worker chooses; starting with it records it.
function mismatch(req, name, r) {
  const whose = (r.card_of || []).map(c => c.recipient).join(', ');
  const parts = [
    h('p', { class: 'warning', role: 'alert' }, whose ? `Это карта другого получателя: ${whose}.` : 'Эта карта не подходит.'),
    name ? h('p', {}, `Визит запланирован к получателю: ${name}.`) : null,
  ];
  const actions = h('div', { class: 'actions' });
  if (req.plan_id || req.recipient_id) {
    actions.append(button('Начать с этой картой (несовпадение будет записано)',
      () => startWith(Object.assign({}, req, { accept_other_card: true }), name), 'primary', { id: 'accept-card' }));
  }
  for (const c of r.card_of || []) {
    if (!req.plan_id && !req.recipient_id) {
      actions.append(button(`Визит к получателю: ${c.recipient}`,
        () => startWith(Object.assign({}, req, { recipient_id: c.recipient_id }), c.recipient), 'primary'));
    }
  }
  actions.append(button('Приложить другую карту', () => waitCard('tap-start', `Визит: ${name || ''}`, [],
    tap => startWith(Object.assign({}, req, { tap }), name)), '', { id: 'tap-again' }));
  actions.append(button('Отмена', () => home('Визит не начат.'), ''));
  parts.push(actions);
  show('mismatch', 'Карта другого получателя', parts, { speak: `Это карта другого получателя. ${whose}` });
}

function unknownCard(req, name) {
  const parts = [h('p', { class: 'warning', role: 'alert' }, 'Карта не распознана: её приложение записано.')];
  const actions = h('div', { class: 'actions' });
  const rid = req.recipient_id || planRecipient(req.plan_id);
  if (rid) {
    actions.append(button(`Привязать эту карту: ${name}`, async () => {
      const b = await api('POST', '/api/card/bind', { recipient_id: rid, tap: req.tap });
      home(b.ok ? `Карта привязана к получателю ${b.recipient}. Она заработает после подтверждения менеджером.` : b.message, b.ok ? 'notice' : 'warning');
    }, 'primary'));
  }
  actions.append(button('Приложить другую карту', () => waitCard('tap-start', `Визит: ${name || ''}`, [],
    tap => startWith(Object.assign({}, req, { tap }), name))));
  actions.append(button('Отмена', () => home()));
  parts.push(actions);
  show('unknown-card', 'Карта не распознана', parts);
}

function planRecipient(planId) {
  const p = state && state.plans.find(x => x.plan_id === planId);
  return p ? p.recipient_id : null;
}

// ==== End: services, the recipient confirms with the card, then rates ====

function chooseServices() {
  const open = state && state.open;
  if (!open) return home('Идущего визита нет.', 'warning');
  const picked = []; // [checkbox, service, quantity holder]
  const list = h('fieldset', { class: 'services' },
    h('legend', {}, 'Отметьте сделанные услуги'),
    ...open.services.map((s, i) => {
      const box = h('input', { type: 'checkbox', id: `svc-${i}`, value: s.code, disabled: s.remaining < 1 });
      const qty = { n: 1 };
      picked.push([box, s, qty]);
      const row = h('div', { class: 'service', 'data-code': s.code },
        h('label', { for: `svc-${i}`, 'data-code': s.code }, box,
          h('span', {}, s.name, h('span', { class: 'left' }, `осталось ${s.remaining} из ${s.volume}`))));
      // More than one of a service (up to what the certificate has left): a stepper
      // shown once the service is ticked; one is the default and costs no tap.
      if (s.remaining > 1) {
        const count = h('output', { id: `qty-${i}`, 'aria-live': 'polite' }, '1');
        const less = button('−', () => step(-1), 'small', { 'aria-label': `Меньше: ${s.name}`, 'data-step': 'less' });
        const more = button('+', () => step(1), 'small', { 'aria-label': `Больше: ${s.name}`, 'data-step': 'more' });
        const stepper = h('div', { class: 'stepper', hidden: true }, less,
          h('span', {}, 'количество: ', count), more);
        const step = (d) => {
          qty.n = Math.min(s.remaining, Math.max(1, qty.n + d));
          count.textContent = String(qty.n);
          less.disabled = qty.n <= 1;
          more.disabled = qty.n >= s.remaining;
        };
        step(0);
        box.addEventListener('change', () => { stepper.hidden = !box.checked; });
        row.append(stepper);
      }
      return row;
    }));
  const parts = [h('p', {}, `Получатель: ${open.recipient}. Визит идёт ${minutesText(open.minutes)}.`)];
  if (!open.certificate_valid) parts.push(h('p', { class: 'warning' }, 'Сегодня нет действующего сертификата: услуги не отметить.'));
  parts.push(list);
  const done = () => picked.filter(([b]) => b.checked).map(([, s, q]) => ({ code: s.code, name: s.name, quantity: q.n }));
  parts.push(h('div', { class: 'actions' },
    button('Передать получателю', () => confirmByRecipient(open, done()), 'primary', { id: 'to-recipient' }),
    button('Назад', () => home())));
  show('services', 'Завершение визита', parts);
}

function confirmByRecipient(open, services) {
  const names = services.length
    ? services.map(s => (s.quantity > 1 ? `${s.name} × ${s.quantity}` : s.name)).join(', ')
    : 'без услуг';
  const lines = [
    h('p', {}, `Работник был у вас ${minutesText(open.minutes)}.`),
    h('p', {}, `Услуги: ${names}.`),
    h('p', {}, 'Если всё верно —'),
  ];
  waitCard('confirm', 'Подтвердите визит', lines, async tap => {
    const r = await api('POST', '/api/visit/end', {
      tap, services: services.map(s => ({ code: s.code, quantity: s.quantity })),
    });
    if (!r.ok) {
      return home(r.error === 'service_not_allowed' ? `${r.message} (${r.service})` : r.message, 'warning');
    }
    if (r.card_matches === false) return endMismatch(r);
    rate(r.visit_id, r.view.recipient, r.minutes);
  }, { recipient: true });
}

function endMismatch(r) {
  const whose = (r.card_of || []).map(c => c.recipient).join(', ');
  show('end-mismatch', 'Карта другого получателя', [
    h('p', { class: 'warning', role: 'alert' },
      `Визит завершён картой ${whose ? `получателя: ${whose}` : 'не этого получателя'}. Несовпадение записано, менеджер его проверит.`),
    h('div', { class: 'actions' },
      button('Передать на оценку', () => rate(r.visit_id, r.view.recipient, r.minutes), 'primary', { id: 'to-rating' }),
      button('Без оценки', () => home('Визит завершён.'))),
  ]);
}

function faceSvg(n) {
  // eyes, and a mouth from sad (1) to happy (5)
  const curve = [-9, -5, 0, 5, 9][n - 1];
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 64 64');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const parts = [
    ['circle', { cx: 32, cy: 32, r: 29, fill: '#ffd400', stroke: '#fff', 'stroke-width': 3 }],
    ['circle', { cx: 22, cy: 25, r: 4, fill: '#000' }],
    ['circle', { cx: 42, cy: 25, r: 4, fill: '#000' }],
    ['path', { d: `M18 44 Q32 ${44 + curve * 1.4} 46 44`, fill: 'none', stroke: '#000', 'stroke-width': 4, 'stroke-linecap': 'round' }],
  ];
  for (const [tag, attrs] of parts) {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    svg.append(el);
  }
  return svg;
}

function rate(visitId, name, minutes) {
  tapLoop++;
  const comment = h('textarea', { id: 'comment', maxlength: '1000', rows: '2' });
  const parts = [
    h('p', {}, `Работник был у вас ${minutesText(minutes || 0)}.`),
    h('label', { for: 'comment' }, 'Комментарий, если хотите (можно сказать голосом)'),
    comment,
  ];
  const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  if (Recognition) {
    parts.push(button('Сказать комментарий', () => {
      const rec = new Recognition();
      rec.lang = 'ru-RU';
      rec.onresult = e => { comment.value = (comment.value + ' ' + e.results[0][0].transcript).trim(); };
      rec.onerror = () => say('Голос не распознан. Напишите, если хотите.');
      rec.start();
    }, 'small', { id: 'voice' }));
  }
  parts.push(h('p', {}, 'Нажмите на лицо, которое подходит:'));
  parts.push(h('div', { class: 'faces', role: 'group', 'aria-label': 'Оценка визита от 1 до 5' },
    ...FACES.map(([n, word]) => button([faceSvg(n), h('span', {}, `${n} — ${word}`)], async () => {
      const r = await api('POST', '/api/visit/rate', { visit_id: visitId, rating: n, comment: comment.value.trim() });
      if (!r.ok) return home(r.message, 'warning');
      offerSurvey(visitId, true);
    }, '', { 'data-rating': String(n) }))));
  parts.push(h('div', { class: 'actions' }, button('Пропустить', () => offerSurvey(visitId, false), '', { id: 'skip-rating' })));
  show('rate', 'Как прошёл визит?', parts, {
    recipient: true,
    speak: `Как прошёл визит? Работник был у вас ${minutesText(minutes || 0)}. Нажмите на лицо: от одного, очень плохо, до пяти, отлично. Или нажмите пропустить.`,
  });
}

function thanks() {
  show('thanks', 'Спасибо за оценку!', [h('p', {}, 'Верните, пожалуйста, терминал работнику.')], { recipient: true });
  setTimeout(() => { if (document.body.dataset.screen === 'thanks') home('Визит завершён и оценён.'); }, 1500);
}

// ==== The survey of the service's quality, on the recipient's screen ====

// After the rating (or its skip) the recipient may answer the server's instrument held in
// the reference data (state.survey): one question per screen, the answers in the
// instrument's own scale, «Пропустить опрос» on every screen. The answers go to the
// daemon once, at the end, as one survey.answered event.
function offerSurvey(visitId, rated) {
  const sv = state && state.survey;
  if (!sv || !visitId || !sv.questions.length) return surveyDone(rated);
  askQuestion(sv, visitId, rated, 0, {});
}

function surveyDone(rated) {
  return rated ? thanks() : home('Визит завершён без оценки.');
}

function askQuestion(sv, visitId, rated, i, answers) {
  tapLoop++;
  if (i === sv.questions.length) return sendSurvey(sv, visitId, answers);
  const q = sv.questions[i];
  const n = sv.questions.length;
  const next = (value) => {
    const given = Object.assign({}, answers);
    if (value !== null) given[q.code] = value;
    askQuestion(sv, visitId, rated, i + 1, given);
  };
  const lead = i === 0
    ? `${rated ? 'Спасибо за оценку! ' : ''}Ответьте, пожалуйста, на ${n} ${plural(n, 'вопрос', 'вопроса', 'вопросов')} о качестве услуги. Это необязательно.`
    : null;
  const choices = SURVEY_CHOICES[q.kind] || [];
  const parts = [
    lead ? h('p', {}, lead) : null,
    h('p', { class: 'progress' }, `Вопрос ${i + 1} из ${n}`),
    h('div', { class: 'answers', role: 'group', 'aria-labelledby': 'title', 'data-question': q.code },
      ...choices.map(([value, words]) => button(words, () => next(value), '', { 'data-answer': value })),
      q.required ? null : button('Пропустить вопрос', () => next(null), '', { 'data-answer': '' })),
    h('div', { class: 'actions' }, button('Пропустить опрос', () => surveyDone(rated), '', { id: 'skip-survey' })),
  ];
  show('survey', q.text, parts, {
    recipient: true,
    speak: [lead, `Вопрос ${i + 1} из ${n}.`, q.text, `Ответы: ${choices.map(([, w]) => w).join(', ')}.`,
      'Или нажмите «Пропустить опрос».'].filter(Boolean).join(' '),
  });
}

async function sendSurvey(sv, visitId, answers) {
  const r = await api('POST', '/api/survey', { visit_id: visitId, answers });
  if (!r.ok) return home(r.message, 'warning');
  show('survey-thanks', 'Спасибо за ответы!', [h('p', {}, 'Ваши ответы помогут сделать помощь лучше. Верните, пожалуйста, терминал работнику.')],
    { recipient: true });
  setTimeout(() => { if (document.body.dataset.screen === 'survey-thanks') home('Визит завершён, опрос пройден.'); }, 1500);
}

// ==== Door attempt and cancellation: the action, then the reason (two taps) ====

function chooseReason(kind, plan) {
  const reasons = kind === 'attempt' ? ATTEMPT_REASONS : CANCEL_REASONS;
  const who = plan ? plan.recipient : (state.open && state.open.recipient) || '';
  const title = kind === 'attempt' ? 'Не застал дома: причина' : 'Отмена визита: причина';
  show(`reason-${kind}`, title, [
    h('p', {}, `Получатель: ${who}.`),
    h('ul', { class: 'plain' }, ...reasons.map(([reason, by, words]) => h('li', {},
      button(words, async () => {
        const r = kind === 'attempt'
          ? await api('POST', '/api/visit/attempt', { plan_id: plan.plan_id, reason })
          : await api('POST', '/api/visit/cancel', plan ? { plan_id: plan.plan_id, reason, by } : { reason, by });
        home(r.ok ? (kind === 'attempt' ? `Записано: не застал дома (${who}).` : `Визит отменён (${who}).`) : r.message,
          r.ok ? 'notice' : 'warning');
      }, 'wide', { 'data-reason': reason })))),
    h('div', { class: 'actions' }, button('Назад', () => home())),
  ]);
}

// ==== Unplanned visit, binding a card ====

async function chooseRecipient(kind) {
  const r = await api('GET', '/api/recipients');
  const list = (r.recipients || []).map(x => h('li', {}, button(x.recipient, () => {
    if (kind === 'unplanned') {
      waitCard('tap-start', `Визит без плана: ${x.recipient}`, [h('p', {}, 'Получатель прикладывает свою карту.')],
        tap => startWith({ recipient_id: x.recipient_id, tap }, x.recipient));
    } else {
      waitCard('tap-bind', `Новая карта: ${x.recipient}`, [h('p', {}, 'Приложите новую карту получателя.')], async tap => {
        const b = await api('POST', '/api/card/bind', { recipient_id: x.recipient_id, tap });
        home(b.ok ? `Карта привязана к получателю ${b.recipient}. Она заработает после подтверждения менеджером.` : b.message,
          b.ok ? 'notice' : 'warning');
      });
    }
  }, 'wide', { 'data-recipient': x.recipient_id })));
  show(`recipients-${kind}`, kind === 'unplanned' ? 'Визит без плана: к кому?' : 'Привязать карту: чью?', [
    h('ul', { class: 'plain' }, ...list),
    h('div', { class: 'actions' }, button('Назад', () => home())),
  ]);
}

// ==== Check-in at an office's desk (a terminal at the desk) ====

// The visitor taps their card: the event goes with the next sync, and the server marks
// their appointment arrived at this moment (the terminal knows no appointments).
function checkIn() {
  waitCard('tap-check-in', 'Приход посетителя', [h('p', {}, 'Посетитель прикладывает свою карту.')], async tap => {
    const r = await api('POST', '/api/card/check-in', { tap });
    home(r.ok ? 'Приход отмечен картой. Запись на приём отметится после отправки.' : r.message,
      r.ok ? 'notice' : 'warning');
  });
}

// ==== Start-up ====

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('sync-now').addEventListener('click', async () => {
    document.getElementById('sync').textContent = 'Отправка…';
    const r = await api('POST', '/api/sync', {});
    await refresh();
    const msg = r.ok ? 'Отправлено.' : r.message;
    say(msg);
    if (document.body.dataset.screen === 'home') home(msg, r.ok ? 'notice' : 'warning');
  });
  document.getElementById('speech').addEventListener('click', async () => {
    const r = await api('POST', '/api/speech', { on: !speechOn });
    speechOn = !!r.speech;
    renderSpeech();
    say('Звук включён.');
  });
  setInterval(refresh, 3000);
  home();
});
