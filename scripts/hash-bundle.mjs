// The release bundle under content-hashed names, precompressed: scripts/build runs it after
// wasm-opt and terser.
//
//   node scripts/hash-bundle.mjs <pkg-dir> <name>
//
// Copies <name>.{js,wasm,css} to <name>.<hash>.{js,wasm,css} — one hash of the three, so that
// the server need only change Leptos' output name (`server/src/site.rs`) — writes each also as
// .br (brotli, quality 11) and .gz (gzip -9), and the hash to <pkg-dir>/content-hash. A browser
// may then keep these files for ever (`Cache-Control: immutable`): a new build has new names.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const [pkg, name] = process.argv.slice(2);
const extensions = ['js', 'wasm', 'css'];
const files = extensions.map((ext) => fs.readFileSync(path.join(pkg, `${name}.${ext}`)));
const hash = crypto.createHash('sha256');
for (const file of files) hash.update(file);
const short = hash.digest('hex').slice(0, 16);

extensions.forEach((ext, index) => {
  const target = path.join(pkg, `${name}.${short}.${ext}`);
  const bytes = files[index];
  fs.writeFileSync(target, bytes);
  fs.writeFileSync(`${target}.br`, zlib.brotliCompressSync(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  }));
  fs.writeFileSync(`${target}.gz`, zlib.gzipSync(bytes, { level: 9 }));
});
fs.writeFileSync(path.join(pkg, 'content-hash'), `${short}\n`);
const sizes = extensions.map((ext) => {
  const file = path.join(pkg, `${name}.${short}.${ext}`);
  return `${ext} ${fs.statSync(file).size} B (br ${fs.statSync(`${file}.br`).size}, gzip ${fs.statSync(`${file}.gz`).size})`;
});
console.log(`==> ${name}.${short}.*: ${sizes.join('; ')}`);
