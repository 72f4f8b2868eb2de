// Validates every HTTP exchange recorded by the integration tests (one JSON object
// per line: method, path, status, content_type, body) against api/openapi.yaml:
// the path and method must be in the spec, the status must be documented for it,
// and the body must match the documented schema for that status and content type; a
// problem's type must be in the Problem schema's x-problem-types with its status; and no
// member of an answer may be one its schema does not name (a generated client drops it).
// Coverage: every operation of the spec and each status it documents must appear among
// the recordings (answers to paths outside the spec count for nothing), except 503 and
// a short list of statuses no request can reach; those never exchanged are listed.
// Usage: node validate.mjs SPEC RECORDING|FOLDER... (a folder: every *.jsonl in it)
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

// The npm packages come from tools/deps (npm ci here); a test never installs them.
const load = (name) => import(name).then((m) => m.default).catch(() => {
  console.error(`validate.mjs: the npm package ${name} is missing: run tools/deps`);
  process.exit(2);
});
const [Ajv2020, addFormats, YAML] =
  [await load('ajv/dist/2020.js'), await load('ajv-formats'), await load('yaml')];

const [specPath, ...args] = process.argv.slice(2);
const recordings = args.flatMap((a) => (statSync(a, { throwIfNoEntry: false })?.isDirectory()
  ? readdirSync(a).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(a, f)) : [a]));
if (!specPath || recordings.length === 0) {
  console.error('usage: node validate.mjs SPEC RECORDING...');
  process.exit(2);
}
const spec = YAML.parse(readFileSync(specPath, 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'spec', components: spec.components });

// '#/components/...' references resolve inside the registered spec document.
const rewrite = (node) => {
  if (Array.isArray(node)) return node.map(rewrite);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) out[k] = k === '$ref' ? `spec${v}` : rewrite(v);
    return out;
  }
  return node;
};
const deref = (node) => (node && node.$ref ? node.$ref.split('/').slice(1).reduce((o, k) => o[k], spec) : node);

// Every problem carefactd answers is in the catalogue integrators read (x-problem-types of
// the Problem schema, each type with its statuses), with the status it is listed with.
const problemBase = 'https://carefact.example/problems/';
const problemTypes = spec.components.schemas.Problem['x-problem-types'] || {};
const problemListed = (body) => typeof body.type === 'string' && body.type.startsWith(problemBase) &&
  [].concat(problemTypes[body.type.slice(problemBase.length)] ?? []).includes(body.status);

// undocumented(schema, data): the members of the answer its schema does not name (an object
// schema without properties, or with additionalProperties a schema, is open). ajv lets them
// through; a client generated from the contract never sees them, so each is a failure.
const resolve = (node) => (node && node.$ref ? resolve(deref(node)) : node);
const undocumented = (schema, data, at = '', out = []) => {
  const top = resolve(schema);
  if (!top || typeof top !== 'object' || data === null || typeof data !== 'object') return out;
  const branches = [top, ...(top.allOf || []), ...(top.oneOf || []), ...(top.anyOf || [])].map(resolve);
  if (Array.isArray(data)) {
    for (const b of branches) if (b.items) data.forEach((d, i) => undocumented(b.items, d, `${at}[${i}]`, out));
    return out;
  }
  const named = {};
  let open = false; // true: any member; a schema: members of that schema
  for (const b of branches) {
    Object.assign(named, b.properties || {});
    if (b.additionalProperties && typeof b.additionalProperties === 'object') open = b.additionalProperties;
    else if (b.additionalProperties === true) open = true;
  }
  if (Object.keys(named).length === 0 && !branches.some((b) => b.allOf || b.oneOf || b.anyOf) &&
      branches.every((b) => b.additionalProperties === undefined)) open = true; // {type: object}: free-form
  for (const [key, value] of Object.entries(data)) {
    if (named[key]) undocumented(named[key], value, `${at}/${key}`, out);
    else if (open && open !== true) undocumented(open, value, `${at}/${key}`, out);
    else if (!open) out.push(`${at}/${key}`);
  }
  return out;
};

const routes = Object.entries(spec.paths).map(([template, ops]) => ({
  template,
  regex: new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$'),
  ops,
}));

let checked = 0;
let unknown = 0; // exchanges with paths outside the spec (answered 404/405): no route's coverage
const failures = [];
const seen = new Set(); // "METHOD template status" of every recorded exchange that matched
for (const file of recordings) {
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const x = JSON.parse(line);
    const path = x.path.split('?')[0];
    const where = `${basename(file)}: ${x.method} ${x.path} -> ${x.status}`;
    const route = routes.find((r) => r.regex.test(path) && r.ops[x.method.toLowerCase()]);
    if (!route) {
      if (x.status === 404 || x.status === 405) { unknown++; continue; } // unknown paths answer problems
      failures.push(`${where}: not in the spec`);
      continue;
    }
    seen.add(`${x.method.toUpperCase()} ${route.template} ${x.status}`);
    seen.add(`${x.method.toUpperCase()} ${route.template}`);
    const response = deref(route.ops[x.method.toLowerCase()].responses[String(x.status)]);
    if (!response) {
      failures.push(`${where}: status not documented for ${route.template}`);
      continue;
    }
    const type = (x.content_type || '').split(';')[0].trim();
    if (!response.content && (x.body || '') === '') { checked++; continue; } // 204, 304: no body
    const media = response.content && response.content[type];
    if (!media) {
      failures.push(`${where}: content type '${type}' not documented`);
      continue;
    }
    let body = x.body;
    if (type.endsWith('json')) {
      try { body = JSON.parse(x.body); } catch { failures.push(`${where}: body is not JSON`); continue; }
    }
    const validate = ajv.compile(rewrite(media.schema));
    if (!validate(body)) failures.push(`${where}: ${ajv.errorsText(validate.errors)}`);
    else if (type.endsWith('json') && undocumented(media.schema, body).length > 0)
      failures.push(`${where}: members the contract does not name: ${[...new Set(undocumented(media.schema, body).map((p) => p.replace(/\[\d+\]/g, '[]')))].join(', ')}`);
    else if (type === 'application/problem+json' && !problemListed(body))
      failures.push(`${where}: problem type ${body.type} with status ${body.status} is not in the Problem schema's x-problem-types`);
    checked++;
  }
}
// Coverage: every operation of the spec and every status it documents must have been
// exchanged by some recorded test, except 503 (the database away: listed, not required)
// and the few below that no request can reach, each with the reason.
const unreachable = new Map([
  ['GET / 404', 'only when the web folder has no index.html (a server without the dashboard)'],
  ['GET /api/v1/devices/{id}/reference 404', 'the signature check refuses an unknown device first (401)'],
  ['POST /api/v1/devices/{id}/reference/fetch 404', 'the signature check refuses an unknown device first (401)'],
  ['GET /api/v1/visits/{id} 403', 'every person may read visits; another provider\'s visit is a 404'],
]);
const uncoveredOther = [];
for (const { template, ops } of routes) {
  for (const [method, op] of Object.entries(ops)) {
    if (!op || typeof op !== 'object' || !op.responses) continue;
    const m = method.toUpperCase();
    if (!seen.has(`${m} ${template}`)) failures.push(`${m} ${template}: no recorded exchange`);
    for (const status of Object.keys(op.responses)) {
      if (seen.has(`${m} ${template} ${status}`)) continue;
      if (status === '503' || unreachable.has(`${m} ${template} ${status}`))
        uncoveredOther.push(`${m} ${template} -> ${status}`);
      else failures.push(`${m} ${template} -> ${status}: documented, never exchanged`);
    }
  }
}
for (const u of uncoveredOther) console.log('not exchanged (503 or unreachable, not required): ' + u);
for (const f of failures) console.error('FAIL ' + f);
console.log(`contract: ${checked} responses checked (${unknown} answers to paths outside the spec not counted), ` +
            `${failures.length} failures, ${uncoveredOther.length} documented statuses (503, unreachable) never exchanged`);
process.exit(failures.length || checked === 0 ? 1 : 0);
