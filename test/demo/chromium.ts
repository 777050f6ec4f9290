/**
 * The headless Chromium that the demo tests drive. By default it is the one inside the
 * `@sparticuz/chromium` devDependency, so `npm ci && npm test` needs nothing from the system
 * package manager; that package ships Brotli-compressed files, unpacked here once per version
 * under .cache/chromium/. Debian's `/usr/bin/chromium` is the fallback when the package cannot be
 * used.
 *
 * ALIGNSAM_CHROMIUM picks one: `npm` (the package, no fallback), `system` (/usr/bin/chromium), or
 * the path of a Chromium binary.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';
const PACKAGE = '@sparticuz/chromium';

export interface ChromiumBinary {
  executablePath: string;
  /** Environment for the browser process. */
  env: Record<string, string>;
  /** Where the binary came from, for messages. */
  source: string;
}

function packageDir(): { dir: string; version: string } {
  // The package's exports map has no ./package.json, so go up from its CommonJS entry.
  let dir = path.dirname(require.resolve(PACKAGE));
  while (
    !fs.existsSync(path.join(dir, 'package.json')) ||
    JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== PACKAGE
  ) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find ${PACKAGE}'s package.json above ${require.resolve(PACKAGE)}`);
    dir = up;
  }
  return { dir, version: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version };
}

function brotli(file: string): Buffer {
  return zlib.brotliDecompressSync(fs.readFileSync(file));
}

/**
 * Extracts an uncompressed ustar archive of plain files and folders into `dest`. The archives in
 * the package hold nothing else; anything else (links, long-name records) is refused rather than
 * half-extracted.
 */
function untar(archive: Buffer, dest: string, label: string): void {
  const field = (h: Buffer, start: number, len: number) =>
    h
      .subarray(start, start + len)
      .toString('utf8')
      .replace(/\0.*$/s, '');
  for (let off = 0; off + 512 <= archive.length;) {
    const header = archive.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const prefix = field(header, 345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(header, 0, 100);
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const mode = parseInt(field(header, 100, 8).trim() || '644', 8);
    const type = String.fromCharCode(header[156]);
    const target = path.resolve(dest, name);
    if (!target.startsWith(path.resolve(dest) + path.sep))
      throw new Error(`${label}: entry ${JSON.stringify(name)} points outside the folder`);
    off += 512;
    if (type === '5') fs.mkdirSync(target, { recursive: true });
    else if (type === '0' || type === '\0') {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, archive.subarray(off, off + size), { mode: mode & 0o777 });
    } else
      throw new Error(
        `${label}: entry ${JSON.stringify(name)} has tar type ${JSON.stringify(type)}, expected a file or a folder`,
      );
    off += Math.ceil(size / 512) * 512;
  }
}

/**
 * Unpacks the package's Chromium into .cache/chromium/<version>/ unless already there. The folder
 * is filled under a temporary name and renamed, so an interrupted unpack never looks complete and
 * two test processes unpacking at once do not clash.
 */
export function unpackPackagedChromium(cacheRoot: string): ChromiumBinary {
  const { dir, version } = packageDir();
  const bin = path.join(dir, 'bin');
  const out = path.join(cacheRoot, version);
  if (!fs.existsSync(path.join(out, 'chromium'))) {
    fs.mkdirSync(cacheRoot, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(cacheRoot, `.${version}-`));
    try {
      fs.writeFileSync(path.join(tmp, 'chromium'), brotli(path.join(bin, 'chromium.br')), { mode: 0o755 });
      // SwiftShader's libraries are looked up next to the binary.
      untar(brotli(path.join(bin, 'swiftshader.tar.br')), tmp, 'swiftshader.tar.br');
      untar(brotli(path.join(bin, 'fonts.tar.br')), tmp, 'fonts.tar.br');
      // NSS, NSPR and expat, the binary's only shared libraries beyond glibc; a Node-only
      // machine (a slim container) may have none of them.
      untar(brotli(path.join(bin, 'al2023.tar.br')), tmp, 'al2023.tar.br');
      // The packaged fonts.conf names /tmp/fonts; this one names the folder unpacked here.
      fs.writeFileSync(
        path.join(tmp, 'fonts', 'fonts.conf'),
        `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${path.join(out, 'fonts')}</dir>\n  <cachedir>${path.join(out, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
      );
      try {
        fs.renameSync(tmp, out);
      } catch (e) {
        // Another process finished first: use its copy.
        if (!fs.existsSync(path.join(out, 'chromium'))) throw e;
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  const libs = [path.join(out, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return {
    executablePath: path.join(out, 'chromium'),
    env: { ...stringEnv(), LD_LIBRARY_PATH: libs, FONTCONFIG_PATH: path.join(out, 'fonts') },
    source: `${PACKAGE} ${version}`,
  };
}

function stringEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

function system(file: string): ChromiumBinary {
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist`);
  return { executablePath: file, env: stringEnv(), source: file };
}

/** The Chromium to launch, as ALIGNSAM_CHROMIUM asks (see the file's header). */
export function findChromium(cacheRoot: string, choice = process.env.ALIGNSAM_CHROMIUM ?? ''): ChromiumBinary {
  if (choice === 'npm') return unpackPackagedChromium(cacheRoot);
  if (choice === 'system') return system(SYSTEM_CHROMIUM);
  if (choice !== '') return system(choice);
  try {
    return unpackPackagedChromium(cacheRoot);
  } catch (packaged) {
    if (fs.existsSync(SYSTEM_CHROMIUM)) return system(SYSTEM_CHROMIUM);
    throw new Error(
      `no headless Chromium: ${PACKAGE} (a devDependency; run npm ci) failed: ${(packaged as Error).message}; and ${SYSTEM_CHROMIUM} does not exist`,
    );
  }
}
