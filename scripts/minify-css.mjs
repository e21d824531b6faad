// Minifies the stylesheet for the release site with lightningcss (its WASM build, from npm:
// the engine cargo-leptos minifies CSS with). Usage: node scripts/minify-css.mjs <in> <out>
import fs from 'node:fs';
import init, { transform } from '../end2end/node_modules/lightningcss-wasm/index.mjs';

const [input, output] = process.argv.slice(2);
await init();
const { code } = transform({ filename: input, code: fs.readFileSync(input), minify: true });
fs.writeFileSync(output, code);
