import type { CommandModule } from 'yargs';

export interface BenchArgs {
  only?: string;
  list: boolean;
}

/** The `bench:*` scripts of package.json. */
export function benchScripts(pkg: { scripts?: Record<string, string> }): string[] {
  return Object.keys(pkg.scripts ?? {})
    .filter((k) => /^bench:/.test(k))
    .sort();
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench',
  describe: 'Run the benchmark suite (the npm bench:* scripts: SAM, env, agent ...)',
  builder: (y) =>
    y
      .option('only', { type: 'string', describe: 'Comma-separated names to run (e.g. sam,env)' })
      .option('list', { type: 'boolean', default: false, describe: 'List the benchmarks and exit' })
      .example('$0 bench', 'every benchmark, one after another')
      .example('$0 bench --only sam,agent', 'the SAM and agent benchmarks')
      .example('$0 bench --list', 'what there is'),
  handler: async (a) => {
    const fs = await import('fs');
    const path = await import('path');
    const { spawnSync } = await import('child_process');
    const { PACKAGE_ROOT } = await import('../../runs/factory');
    const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    const all = benchScripts(pkg);
    if (all.length === 0) throw new Error('package.json has no bench:* scripts');
    if (a.list) {
      for (const s of all)
        process.stdout.write(`${s.slice('bench:'.length).padEnd(10)} npm run ${s}: ${pkg.scripts[s]}\n`);
      return;
    }
    let chosen = all;
    if (a.only) {
      const names = a.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = names.filter((n) => !all.includes(`bench:${n}`));
      if (unknown.length > 0)
        throw new Error(
          `--only: unknown benchmark ${unknown.join(', ')} (known: ${all.map((s) => s.slice(6)).join(', ')})`,
        );
      chosen = names.map((n) => `bench:${n}`);
    }
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const failed: string[] = [];
    for (const s of chosen) {
      process.stdout.write(`\n=== npm run ${s} ===\n`);
      const r = spawnSync(npm, ['run', '--silent', s], { cwd: PACKAGE_ROOT, stdio: 'inherit' });
      if (r.status !== 0) failed.push(`${s} (exit ${r.status ?? r.signal})`);
    }
    if (failed.length > 0) throw new Error(`benchmarks failed: ${failed.join(', ')}`);
  },
};
