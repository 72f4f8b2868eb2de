// Validates every HTTP exchange recorded by the integration tests (one JSON object
// per line: method, path, status, content_type, body) against api/openapi.yaml:
// the path and method must be in the spec, the status must be documented for it,
// and the body must match the documented schema for that status and content type.
// Usage: node validate.mjs SPEC RECORDING|FOLDER... (a folder: every *.jsonl in it)
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

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

const routes = Object.entries(spec.paths).map(([template, ops]) => ({
  template,
  regex: new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$'),
  ops,
}));

let checked = 0;
const failures = [];
for (const file of recordings) {
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const x = JSON.parse(line);
    const path = x.path.split('?')[0];
    const where = `${basename(file)}: ${x.method} ${x.path} -> ${x.status}`;
    const route = routes.find((r) => r.regex.test(path) && r.ops[x.method.toLowerCase()]);
    if (!route) {
      if (x.status === 404 || x.status === 405) { checked++; continue; } // unknown paths answer problems
      failures.push(`${where}: not in the spec`);
      continue;
    }
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
    checked++;
  }
}
for (const f of failures) console.error('FAIL ' + f);
console.log(`contract: ${checked} responses checked, ${failures.length} not matching api/openapi.yaml`);
process.exit(failures.length || checked === 0 ? 1 : 0);
