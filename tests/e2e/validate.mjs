#!/usr/bin/env node
// Runs the Mattermost webapp's own validators (mattermost-redux 11.9.0,
// lib/utils/apps.js) on bindings and forms.
//
// Usage: node validate.mjs INPUT.json
//   INPUT  = {"bindings": [[<top-level group>, ...], ...], "forms": [<form>, ...],
//             "app_id": "<optional, see below>"}
//   stdout = ONE line {"bindings": [<validateBindings result>, ...], "forms": [<cleaned form>, ...]}
//   stderr = a count of what each validator dropped; exit 0 (2 on bad input).
//
// What the validators write into the objects (all else they only remove or reorder;
// unknown keys are passed through untouched):
// validateBindings(groups):
//   - Top-level groups: only location "/post_menu", "/channel_header", "/command" are
//     kept, output in that order; groups left without children are dropped. The groups'
//     own keys are not touched (no app_id or label is added to them).
//   - Every binding below a group, recursively, in this order:
//       app_id   := parent's app_id, if the binding's own app_id is falsy. The plugin puts
//                   app_id on every non-top-level binding and never on the groups, so raw
//                   app output without app_id loses ALL its bindings here; pass "app_id"
//                   in INPUT to stamp it first, as the plugin would.
//       label    := the binding's *relative* location, if label is falsy ("" if none).
//       location := parent.location + "/" + location, always (the parent's location is
//                   already rewritten, so it is the full path, e.g.
//                   "/command/hello-oauth2-rs/connect"). A binding without location gets
//                   ".../undefined": the plugin's location := label default must come first.
//   - Embedded forms go through cleanForm (below).
// cleanForm(form): writes nothing. It removes fields (no/blank name, name or effective
//   label with space/tab, duplicate effective label, static_select left without options,
//   dynamic_select without lookup) and static_select options (no label and no value,
//   duplicate label or value). The effective label (label || name) is not written back.
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { validateBindings, cleanForm } = require('mattermost-redux/utils/apps');

function die(message) {
  console.error(`validate: ${message}\nusage: node validate.mjs INPUT.json`);
  process.exit(2);
}

const file = process.argv[2];
if (!file || process.argv.length > 3) die('exactly one INPUT.json argument is expected');
let input;
try {
  input = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (err) {
  die(`cannot read ${file}: ${err.message}`);
}
const bindingSets = input?.bindings ?? [];
const forms = input?.forms ?? [];
if (!Array.isArray(bindingSets) || !bindingSets.every(Array.isArray)) {
  die('"bindings" must be an array of arrays (each the data of a /bindings response)');
}
if (!Array.isArray(forms) || !forms.every((f) => f && typeof f === 'object' && !Array.isArray(f))) {
  die('"forms" must be an array of form objects');
}
if (input.app_id !== undefined && typeof input.app_id !== 'string') die('"app_id" must be a string');

// What the plugin does before the webapp sees bindings: app_id on every non-top-level one.
function stampAppId(bindings, appId) {
  for (const b of bindings ?? []) {
    if (b && typeof b === 'object') {
      b.app_id = appId;
      stampAppId(b.bindings, appId);
    }
  }
}

// Bindings plus the fields of their embedded forms, to report what was dropped.
const countBindings = (list) => (list ?? []).reduce(
  (n, b) => n + 1 + countBindings(b?.bindings) + (b?.form?.fields?.length ?? 0), 0);
const countFields = (form) => (form?.fields ?? []).length;

// Both validators mutate their argument in place: work on copies.
const outBindings = bindingSets.map((groups, i) => {
  const copy = structuredClone(groups);
  if (input.app_id) for (const group of copy) stampAppId(group?.bindings, input.app_id);
  const before = countBindings(copy);
  const result = validateBindings(copy);
  const after = countBindings(result);
  if (after !== before) console.error(`validate: bindings[${i}]: ${before - after} of ${before} bindings/fields dropped`);
  return result;
});
const outForms = forms.map((form, i) => {
  const copy = structuredClone(form);
  const before = countFields(copy);
  cleanForm(copy);
  const after = countFields(copy);
  if (after !== before) console.error(`validate: forms[${i}]: ${before - after} of ${before} fields dropped`);
  return copy;
});

process.stdout.write(`${JSON.stringify({ bindings: outBindings, forms: outForms })}\n`);
