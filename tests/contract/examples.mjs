// What Redocly's recommended rules do not check of api/openapi.yaml, with the validator
// integration.backend.contract judges real answers by (ajv, JSON Schema 2020-12, formats):
// - every request and response body has an example, and every example and named example
//   is valid against its schema by the same validator the real answers meet (Redocly's
//   no-invalid-media-type-examples checks them with its own);
// - the problem catalogue is whole: each type of the Problem schema's x-problem-types is a
//   named example of the Problem answer with the same status, and each named example is a
//   listed type (so the catalogue an integrator reads and the examples cannot drift apart);
// - operationIds are unique and camelCase (the Redocly config says the same; this keeps
//   the rule when the spec is read without it).
// Usage: node examples.mjs SPEC
import { readFileSync } from 'node:fs';

const load = (name) => import(name).then((m) => m.default).catch(() => {
  console.error(`examples.mjs: the npm package ${name} is missing: run tools/deps`);
  process.exit(2);
});
const [Ajv2020, addFormats, YAML] =
  [await load('ajv/dist/2020.js'), await load('ajv-formats'), await load('yaml')];

const specPath = process.argv[2];
if (!specPath) {
  console.error('usage: node examples.mjs SPEC');
  process.exit(2);
}
const spec = YAML.parse(readFileSync(specPath, 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'spec', components: spec.components });
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

const failures = [];
let examples = 0;
// checkMedia: the examples of one media type object against its schema.
const checkMedia = (where, media) => {
  if (!media || !media.schema) return;
  const named = Object.entries(media.examples || {}).map(([k, e]) => [`${where} examples.${k}`, deref(e).value]);
  const all = 'example' in media ? [[`${where} example`, media.example], ...named] : named;
  if (all.length === 0) failures.push(`${where}: no example`);
  const validate = ajv.compile(rewrite(media.schema));
  for (const [at, value] of all) {
    examples++;
    if (!validate(value)) failures.push(`${at}: ${ajv.errorsText(validate.errors)}`);
  }
};

const ids = new Map();
for (const [path, ops] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(ops)) {
    if (!op || typeof op !== 'object' || !op.responses) continue;
    const name = `${method.toUpperCase()} ${path}`;
    if (!/^[a-z][a-zA-Z0-9]*$/.test(op.operationId || '')) failures.push(`${name}: operationId '${op.operationId}' is not camelCase`);
    else if (ids.has(op.operationId)) failures.push(`${name}: operationId ${op.operationId} is also ${ids.get(op.operationId)}'s`);
    else ids.set(op.operationId, name);
    for (const [type, media] of Object.entries(deref(op.requestBody)?.content || {}))
      checkMedia(`${name} request ${type}`, media);
    for (const [status, response] of Object.entries(op.responses)) {
      if (response.$ref) continue; // a shared answer: checked once below
      for (const [type, media] of Object.entries(response.content || {}))
        checkMedia(`${name} ${status} ${type}`, media);
    }
  }
}
for (const [key, response] of Object.entries(spec.components.responses || {}))
  for (const [type, media] of Object.entries(response.content || {}))
    checkMedia(`components.responses.${key} ${type}`, media);

// The problem catalogue against the Problem answer's named examples.
const base = 'https://carefact.example/problems/';
const catalogue = spec.components.schemas.Problem['x-problem-types'] || {};
const listed = new Set(Object.entries(catalogue).flatMap(([name, s]) => [].concat(s).map((st) => `${name} ${st}`)));
const shown = new Set();
for (const response of Object.values(spec.components.responses || {})) {
  for (const media of Object.values(response.content || {})) {
    for (const [key, e] of Object.entries(media.examples || {})) {
      const v = deref(e).value;
      if (!v || typeof v.type !== 'string' || !v.type.startsWith(base)) continue;
      const entry = `${v.type.slice(base.length)} ${v.status}`;
      shown.add(entry);
      if (!listed.has(entry)) failures.push(`example ${key}: problem '${entry}' is not in the Problem schema's x-problem-types`);
    }
  }
}
for (const entry of listed)
  if (!shown.has(entry)) failures.push(`problem type '${entry}' (x-problem-types) has no example in components.responses`);

for (const f of failures) console.error('FAIL ' + f);
console.log(`examples: ${examples} examples of ${ids.size} operations checked, ` +
            `${listed.size} problem types (with their statuses) listed, ${failures.length} failures`);
process.exit(failures.length || examples === 0 ? 1 : 0);
