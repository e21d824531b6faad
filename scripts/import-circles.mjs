#!/usr/bin/env node
// Finds import circles among the workspace's Rust files: a file that uses an item of another
// file which (directly or through others) uses an item of the first. An edge is any path to a
// module in a `use` declaration or in code (`crate::…`, `super::…`, `self::…`, a child module's
// name; another crate's is not followed: crates cannot form circles). A `mod` declaration is not
// an edge, nor is a module's use of what one of its ancestors defines (a child reaching into its
// parent is how modules nest); a parent's use of its children's items is. Prints each circle's files and exits 1 if there is one.
//
//   node scripts/import-circles.mjs            # the workspace's crates
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const crates = ['leptos-authgear', 'app', 'frontend', 'server', 'examples/minimal', 'bench/baseline']
  .map((dir) => path.join(root, dir))
  .filter((dir) => fs.existsSync(path.join(dir, 'src')));

function rustFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return rustFiles(full);
    return entry.name.endsWith('.rs') ? [full] : [];
  });
}

/** The module path of a source file: src/lib.rs -> [], src/a/mod.rs -> [a], src/a/b.rs -> [a, b]. */
function modulePath(src, file) {
  const parts = path.relative(src, file).replace(/\.rs$/, '').split(path.sep);
  const last = parts[parts.length - 1];
  if (last === 'mod' || (parts.length === 1 && ['lib', 'main'].includes(last))) parts.pop();
  return parts;
}

/** Whether module `a` is `b`'s parent, grandparent, …: a module using what its ancestors define
 * is how modules nest (the ancestor's `mod` owns it), not a circle. */
function isAncestor(a, b) {
  return a.length < b.length && a.every((segment, i) => segment === b[i]);
}

/** Comments and string literals out, so that neither counts as a path. */
function code(text) {
  return text
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/r#*"[\s\S]*?"#*/g, '""')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""');
}

/** Every path a `use` tree names: `a::{b, c::{d}}` -> a::b, a::c::d. */
function expand(tree) {
  const brace = tree.indexOf('{');
  if (brace < 0) return [tree.replace(/\s+as\s+\w+$/, '').trim()];
  const prefix = tree.slice(0, brace).trim();
  const inner = tree.slice(brace + 1, tree.lastIndexOf('}'));
  const items = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i += 1) {
    if (inner[i] === '{') depth += 1;
    else if (inner[i] === '}') depth -= 1;
    else if (inner[i] === ',' && depth === 0) {
      items.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  items.push(inner.slice(start));
  return items.map((item) => item.trim()).filter(Boolean)
    .flatMap((item) => expand(item).map((rest) => (rest === 'self' ? prefix.replace(/::$/, '') : prefix + rest)));
}

const circles = [];
for (const crate of crates) {
  const src = path.join(crate, 'src');
  const files = rustFiles(src);
  const byModule = new Map(files.map((file) => [modulePath(src, file).join('::'), file]));
  const moduleOf = new Map(files.map((file) => [file, modulePath(src, file)]));
  const edges = new Map(files.map((file) => [file, new Set()]));
  const why = new Map(); // "from -> to" -> a path that makes the edge
  for (const file of files) {
    const here = modulePath(src, file);
    const text = code(fs.readFileSync(file, 'utf8'));
    const paths = [];
    for (const match of text.matchAll(/\buse\s+([^;]+);/g)) paths.push(...expand(match[1].replace(/\s+/g, ' ')));
    for (const match of text.matchAll(/\b(?:crate|super|self)(?:::\w+)+/g)) paths.push(match[0]);
    // A child module named without `self::` (Rust 2018 paths), in a `use` or in code.
    for (const match of text.matchAll(/(?<![\w:])(\w+)(?:::\w+)+/g)) {
      if (byModule.has([...here, match[1]].join('::'))) paths.push(`self::${match[0]}`);
    }
    for (const p of paths) {
      const segments = p.split('::').map((s) => s.trim()).filter(Boolean);
      let base;
      if (segments[0] === 'crate') base = [];
      else if (segments[0] === 'self') base = [...here];
      else if (segments[0] === 'super') {
        base = [...here];
        while (segments[0] === 'super') {
          base.pop();
          segments.shift();
        }
        segments.unshift('super');
      } else continue; // another crate: crates cannot form circles
      const rest = segments.slice(1);
      // The longest module prefix that is a file of this crate.
      for (let n = rest.length; n >= 0; n -= 1) {
        const target = byModule.get([...base, ...rest.slice(0, n)].join('::'));
        if (target) {
          if (target !== file && !isAncestor(moduleOf.get(target), here)) {
            edges.get(file).add(target);
            why.set(`${file} -> ${target}`, p);
          }
          break;
        }
      }
    }
  }
  // Tarjan's strongly connected components.
  let index = 0;
  const stack = [];
  const info = new Map();
  function visit(v) {
    info.set(v, { index, low: index, onStack: true });
    index += 1;
    stack.push(v);
    for (const w of edges.get(v)) {
      if (!info.has(w)) {
        visit(w);
        info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
      } else if (info.get(w).onStack) {
        info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
      }
    }
    if (info.get(v).low === info.get(v).index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        info.get(w).onStack = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1) {
        const inside = new Set(component);
        const reasons = component.flatMap((from) => [...edges.get(from)].filter((to) => inside.has(to))
          .map((to) => `    ${path.relative(src, from)} -> ${path.relative(src, to)} (${why.get(`${from} -> ${to}`)})`));
        circles.push({ files: component.map((f) => path.relative(root, f)).sort(), reasons });
      }
    }
  }
  for (const file of files) if (!info.has(file)) visit(file);
}

for (const { files, reasons } of circles) {
  console.log(`circle of ${files.length}: ${files.join(', ')}`);
  for (const reason of reasons) console.log(reason);
}
console.log(`${circles.length} import circle(s)`);
process.exit(circles.length ? 1 : 0);
