#!/usr/bin/env node
// Every relative link and every repository path the docs name must exist: in each Markdown
// file of the repository (git's, outside node_modules), each link that is not to another site
// (its file, and its #anchor among that file's headings), and each `path` in backticks whose
// first segment is a top-level entry of the repository (`leptos-authgear/src/…`,
// `end2end/tests/…`). Paths that builds and runs create (git ignores them: `target/`, a venv,
// test results) are not checked.
// Prints each broken one and exits 1 if there is one.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
  .split('\n').filter(Boolean);
const markdown = tracked.filter((file) => file.endsWith('.md') && !file.includes('node_modules/'));
const topLevel = new Set(fs.readdirSync(root).filter((name) => !['target', 'data', '.git'].includes(name)));
// `leptos-authgear/islands` names the crate's feature, not a path.
const features = new Set(
  (/\[features\]([\s\S]*?)(?:\n\[|$)/.exec(fs.readFileSync(path.join(root, 'leptos-authgear/Cargo.toml'), 'utf8'))?.[1] || '')
    .split('\n').map((line) => /^([\w-]+)\s*=/.exec(line)?.[1]).filter(Boolean)
    .map((feature) => `leptos-authgear/${feature}`),
);

/** GitHub's anchor for a heading: lower case, punctuation out, spaces to hyphens. */
function slug(heading) {
  return heading.trim().toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const anchorsOf = new Map();
function anchors(file) {
  if (!anchorsOf.has(file)) {
    const text = fs.readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
    const seen = new Map();
    const set = new Set();
    for (const match of text.matchAll(/^#{1,6}\s+(.+)$/gm)) {
      const base = slug(match[1].replace(/`/g, ''));
      const count = seen.get(base) || 0;
      seen.set(base, count + 1);
      set.add(count ? `${base}-${count}` : base);
    }
    anchorsOf.set(file, set);
  }
  return anchorsOf.get(file);
}

/** Whether git ignores `named`: a path runs create (`bench/flask/.venv`, test results). */
function ignored(named) {
  try {
    // A path inside it, so that a directory pattern (`dir/`) matches one not created yet.
    execFileSync('git', ['check-ignore', '-q', '--no-index', `${named.replace(/\/$/, '')}/x`], { cwd: root });
    return true;
  } catch {
    return false;
  }
}

const broken = [];
let checked = 0;
for (const file of markdown) {
  const full = path.join(root, file);
  const text = fs.readFileSync(full, 'utf8');
  const prose = text.replace(/```[\s\S]*?```/g, '');
  for (const match of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1];
    if (/^[a-z]+:/i.test(target)) continue; // another site, mailto:
    checked += 1;
    const [where, anchor] = target.split('#');
    const resolved = where ? path.resolve(path.dirname(full), decodeURIComponent(where)) : full;
    if (!fs.existsSync(resolved)) {
      broken.push(`${file}: link to ${target}: no such file`);
    } else if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) {
      broken.push(`${file}: link to ${target}: no such heading`);
    }
  }
  for (const match of prose.matchAll(/`([^`\s]+)`/g)) {
    const named = match[1].replace(/:\d+$/, '').replace(/[.,;]$/, '');
    const first = named.split('/')[0];
    if (!named.includes('/') || !topLevel.has(first) || /[<>{}*…|]/.test(named) || features.has(named)) continue;
    checked += 1;
    if (!fs.existsSync(path.join(root, named)) && !ignored(named)) {
      broken.push(`${file}: names ${named}: no such path`);
    }
  }
}
for (const line of broken) console.log(line);
console.log(`${markdown.length} Markdown files, ${checked} links and paths, ${broken.length} broken`);
process.exit(broken.length ? 1 : 0);
