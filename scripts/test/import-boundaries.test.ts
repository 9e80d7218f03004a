// Imports point one way. Every .ts file of appliance/, control/, packager/ and protocol/ (tests
// included: a test that needs two components lives in scripts/test) is parsed with the TypeScript
// compiler and each import, `export … from`, `import()` and `new URL('….ts', import.meta.url)`
// (worker and child entry points) is checked against these rules:
//
// 1. Between components: appliance → protocol ← control, packager → protocol. None of the four
//    imports bench/, scripts/ or image/ (those harnesses may import anything).
// 2. protocol is pure: it imports nothing of the project outside protocol/, no Node module that
//    does I/O (only PROTOCOL_NODE_MODULES) and no package but PROTOCOL_PACKAGES.
// 3. Inside appliance/src, folders are layered, top to bottom:
//
//        daemon   the main thread: settings, store owner, admin server, services, worker pool
//        fill     the fill engine and its miss coalescer (drives the workers' miss streams)
//        http     the serving workers, and the messages they exchange with the main thread
//        report   the control link: reporter, credentials, BGP prefixes for the report
//        store    the inventory and the bytes          bgp   the BGP speaker
//
//    A folder imports only folders below it (store and bgp share the bottom and import neither
//    each other nor anything above). appliance/main.ts sits above them all.
// 4. In control, domain code never imports the HTTP layer: only control/src/server.ts (which
//    builds the app) and control/main.ts import control/src/http/ — tests too may drive it.

import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMPONENTS = ['appliance', 'control', 'packager', 'protocol'];
const MAY_IMPORT: Record<string, string[]> = {
  appliance: ['appliance', 'protocol'],
  control: ['control', 'protocol'],
  packager: ['packager', 'protocol'],
  protocol: ['protocol'],
};
const APPLIANCE_LAYERS: Record<string, number> = { daemon: 4, fill: 3, http: 2, report: 1, store: 0, bgp: 0 };
const PROTOCOL_NODE_MODULES = new Set(['crypto', 'buffer', 'util']);
const PROTOCOL_PACKAGES = new Set(['zod', 'vitest']);
const CONTROL_HTTP_IMPORTERS = new Set(['control/main.ts', 'control/src/server.ts']);

interface Reference { from: string; specifier: string; line: number }

/** Every module specifier a file names, with its line. */
function references(file: string, source: string): Reference[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const out: Reference[] = [];
  const add = (node: ts.Node, specifier: string) =>
    out.push({ from: file, specifier, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      add(n, n.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)
      && ts.isStringLiteral(n.moduleReference.expression)) {
      add(n, n.moduleReference.expression.text);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword
      && n.arguments[0] && ts.isStringLiteralLike(n.arguments[0])) {
      add(n, n.arguments[0].text);
    } else if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'URL'
      && n.arguments?.[0] && ts.isStringLiteralLike(n.arguments[0]) && /\.[cm]?[jt]s$/.test(n.arguments[0].text)
      && n.arguments[1]?.getText(sf) === 'import.meta.url') {
      add(n, n.arguments[0].text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** The rule a reference breaks, or null. `from` is a path relative to the repository root, with '/'. */
function violation({ from, specifier }: Reference): string | null {
  const component = from.split('/')[0];
  if (!specifier.startsWith('.')) {
    if (component !== 'protocol') return null;
    if (isBuiltin(specifier)) {
      const name = specifier.replace(/^node:/, '').split('/')[0];
      return PROTOCOL_NODE_MODULES.has(name) ? null : `protocol is pure: no Node I/O module (${specifier})`;
    }
    const pkg = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
    return PROTOCOL_PACKAGES.has(pkg) ? null : `protocol is pure: package ${specifier} is not in PROTOCOL_PACKAGES`;
  }
  const to = posix.normalize(posix.join(posix.dirname(from), specifier));
  const target = to.split('/')[0];
  if (to.startsWith('../') || to.includes('node_modules/')) return null; // data outside the project (models, browsers)
  if (!MAY_IMPORT[component].includes(target)) return `${component} must not import ${target}/ (${to})`;
  if (component === 'appliance' && target === 'appliance') {
    const [, fromDir, fromFolder] = from.split('/');
    const [, toDir, toFolder] = to.split('/');
    if (fromDir === 'src' && toDir === 'src' && fromFolder !== toFolder) {
      const a = APPLIANCE_LAYERS[fromFolder];
      const b = APPLIANCE_LAYERS[toFolder];
      if (a === undefined || b === undefined) return `appliance/src/${a === undefined ? fromFolder : toFolder}/ has no layer: add it to APPLIANCE_LAYERS`;
      if (b >= a) return `appliance/src/${fromFolder}/ must not import appliance/src/${toFolder}/ (${to}): it is not below`;
    }
  }
  if (component === 'control' && to.startsWith('control/src/http/') && !from.startsWith('control/src/http/')
    && !from.startsWith('control/test/') && !CONTROL_HTTP_IMPORTERS.has(from)) {
    return `control domain code must not import the HTTP layer (${to})`;
  }
  return null;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name.startsWith('.')) return [];
    const p = join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('import boundaries', () => {
  it('hold for every .ts file of appliance, control, packager and protocol', () => {
    const files = COMPONENTS.flatMap((c) => tsFiles(join(ROOT, c)));
    expect(files.length).toBeGreaterThan(300);
    const refs = files.flatMap((f) => references(relative(ROOT, f).split(sep).join('/'), readFileSync(f, 'utf8')));
    // Guards against a parser that finds nothing: the project is full of relative imports.
    expect(refs.filter((r) => r.specifier.startsWith('.')).length).toBeGreaterThan(500);
    const broken = refs.flatMap((r) => {
      const v = violation(r);
      return v ? [`${r.from}:${r.line}: ${v}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('catches each kind of crossing', () => {
    const check = (from: string, source: string) => references(from, source).map(violation);
    expect(check('appliance/src/http/a.ts', "import { x } from '../../../control/src/errors.ts';")).toEqual([
      'appliance must not import control/ (control/src/errors.ts)',
    ]);
    expect(check('packager/src/a.ts', "export { y } from '../../appliance/src/store/store.ts';")[0]).toMatch(/packager must not import appliance/);
    expect(check('control/test/a.ts', "await import('../../scripts/lib/cluster.ts');")[0]).toMatch(/control must not import scripts/);
    expect(check('protocol/src/a.ts', "import { readFile } from 'node:fs/promises';\nimport net from 'net';\nimport { createHash } from 'node:crypto';")).toEqual([
      'protocol is pure: no Node I/O module (node:fs/promises)',
      'protocol is pure: no Node I/O module (net)',
      null,
    ]);
    expect(check('protocol/src/a.ts', "import pino from 'pino';\nimport { z } from 'zod';")[0]).toMatch(/package pino/);
    expect(check('protocol/src/a.ts', "import type { X } from '../../control/src/control.ts';")[0]).toMatch(/protocol must not import control/);
    expect(check('appliance/src/http/w.ts', "import type { D } from '../daemon/daemon.ts';")[0]).toMatch(/http\/ must not import appliance\/src\/daemon/);
    expect(check('appliance/src/store/s.ts', "import { S } from '../bgp/speaker.ts';")[0]).toMatch(/store\/ must not import appliance\/src\/bgp/);
    expect(check('appliance/src/daemon/p.ts', "new Worker(new URL('../http/worker.ts', import.meta.url));")).toEqual([null]);
    expect(check('appliance/src/fill/p.ts', "new Worker(new URL('../daemon/x.ts', import.meta.url));")[0]).toMatch(/fill\/ must not import/);
    expect(check('appliance/src/tls/t.ts', "import { S } from '../store/store.ts';")[0]).toMatch(/tls\/ has no layer/);
    expect(check('control/src/playback/p.ts', "import { ApiError } from '../http/api-error.ts';")[0]).toMatch(/must not import the HTTP layer/);
    expect(check('control/src/server.ts', "import { buildApp } from './http/app.ts';")).toEqual([null]);
  });
});
