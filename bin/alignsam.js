#!/usr/bin/env node
/*
 * The `alignsam` command. In a checkout (src/ present, ts-node installed) it runs the TypeScript
 * sources directly, so no build step is needed; in an installed package it runs the compiled
 * dist/ files.
 */
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const source = path.join(root, 'src', 'cli', 'main.ts');
const compiled = path.join(root, 'dist', 'cli', 'main.js');

function hasTsNode() {
  try {
    require.resolve('ts-node', { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

let cli;
if (fs.existsSync(source) && hasTsNode()) {
  require(require.resolve('ts-node', { paths: [root] })).register({
    transpileOnly: true,
    project: path.join(root, 'tsconfig.json'),
    compilerOptions: { module: 'commonjs', sourceMap: true },
  });
  cli = require(source);
} else if (fs.existsSync(compiled)) {
  cli = require(compiled);
} else {
  process.stderr.write(
    `alignsam: neither ${source} with ts-node (npm ci) nor ${compiled} (npm run build) is available\n`,
  );
  process.exit(1);
}

cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`alignsam: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  },
);
