#!/usr/bin/env node
// Type-checks the validate.mjs INPUT.json against the webapp's TypeScript types
// (@mattermost/types 11.9.0, lib/apps.d.ts) with the TypeScript compiler, as
// `tsc --noEmit --strict` would for `const input: Input = <the JSON>;`.
// Being an object literal, the JSON gets TypeScript's excess-property check: a
// misspelt or unknown key is an error, and so is a value of the wrong type.
//
// Usage: node typecheck.mjs INPUT.json
//   stdout = ONE line {"ok": <bool>, "errors": ["INPUT.json:LINE:COL: message", ...]}
//   exit 0 when ok, 1 on type errors, 2 on bad usage or unreadable input.
//
// The webapp types describe what the webapp holds after the plugin has processed the
// app's bindings, so the check relaxes exactly these points (see WIRE_TYPES):
//   - app_id and label are optional on bindings (the plugin and validateBindings fill them);
//   - a top-level group is a binding with a location (no app_id, no label);
//   - expand also takes the plugin's keys oauth2_app, oauth2_user, channel_member,
//     team_member and the level "+id", which AppExpand lacks.
// Nothing is tightened: e.g. the level "none" passes here although the plugin rejects it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WIRE_TYPES = `
import type { AppBinding, AppCall, AppExpand, AppExpandLevel, AppField, AppForm } from '@mattermost/types/apps';
type WireExpandLevel = AppExpandLevel | '+id';
type WireExpand = { [K in keyof AppExpand]?: WireExpandLevel } & {
  channel_member?: WireExpandLevel; team_member?: WireExpandLevel;
  oauth2_app?: WireExpandLevel; oauth2_user?: WireExpandLevel;
};
type WireCall = Omit<AppCall, 'expand'> & { expand?: WireExpand };
type WireField = Omit<AppField, 'lookup'> & { lookup?: WireCall };
type WireForm = Omit<AppForm, 'source' | 'submit' | 'fields'> & { source?: WireCall; submit?: WireCall; fields?: WireField[] };
type WireBinding = Omit<AppBinding, 'app_id' | 'label' | 'bindings' | 'form' | 'submit'> & {
  app_id?: string; label?: string; bindings?: WireBinding[]; form?: WireForm; submit?: WireCall;
};
type Group = WireBinding & { location: string };
type Input = { bindings?: Group[][]; forms?: WireForm[]; app_id?: string };
`;

function die(message) {
  console.error(`typecheck: ${message}\nusage: node typecheck.mjs INPUT.json`);
  process.exit(2);
}

const file = process.argv[2];
if (!file || process.argv.length > 3) die('exactly one INPUT.json argument is expected');
let raw;
try {
  raw = fs.readFileSync(file, 'utf8');
  JSON.parse(raw);
} catch (err) {
  die(`cannot read ${file}: ${err.message}`);
}

// The JSON starts on line 1 right after PREFIX, so line numbers map back 1:1.
const PREFIX = 'const input: Input = ';
const virtualPath = path.join(HERE, '__typecheck_input__.ts'); // never written to disk
const virtualText = `${PREFIX}${raw.trimEnd()};\nvoid input;\n${WIRE_TYPES}`;
const inputLines = raw.trimEnd().split('\n').length;

const options = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts'],
  types: [],
};
const host = ts.createCompilerHost(options);
const { getSourceFile, fileExists, readFile } = host;
host.fileExists = (f) => f === virtualPath || fileExists.call(host, f);
host.readFile = (f) => (f === virtualPath ? virtualText : readFile.call(host, f));
host.getSourceFile = (f, lang, ...rest) => (f === virtualPath
  ? ts.createSourceFile(f, virtualText, lang, true, ts.ScriptKind.TS)
  : getSourceFile.call(host, f, lang, ...rest));

const program = ts.createProgram([virtualPath], options, host);
const errors = ts.getPreEmitDiagnostics(program).map((d) => {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
  if (d.file?.fileName !== virtualPath || d.start === undefined) return `typecheck internals: ${message}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  if (line >= inputLines) return `typecheck internals: ${message}`;
  const column = line === 0 ? Math.max(character - PREFIX.length, 0) : character;
  return `${file}:${line + 1}:${column + 1}: ${message}`;
});

process.stdout.write(`${JSON.stringify({ ok: errors.length === 0, errors })}\n`);
process.exitCode = errors.length === 0 ? 0 : 1;
