import type { CommandModule } from 'yargs';
import { setList, startBackend, stderrLog, withBackend, withAllowCode, withSet } from '../common';

export interface TrainArgs {
  config?: string;
  set?: string | string[];
  resume?: string;
  backend?: string;
  progress: boolean;
}

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train an agent (PPO or DQN) to prompt SAM, from a YAML config',
  builder: (y) =>
    withAllowCode(
      withSet(
        withBackend(
          y
            .option('config', { alias: 'c', type: 'string', describe: 'Run config (YAML); see configs/README.md' })
            .option('resume', {
              type: 'string',
              describe: "Continue a run folder from its latest checkpoint (uses the run's config.yaml)",
            })
            .option('progress', {
              type: 'boolean',
              default: true,
              describe: 'Progress line on stderr (--no-progress to hide)',
            }),
        ),
      ),
    )
      .check((a) => {
        if (!a.config && !a.resume) throw new Error('give --config <yaml> (a new run) or --resume <run folder>');
        if (a.config && a.resume)
          throw new Error(
            '--config and --resume exclude each other: a resumed run uses its own config.yaml (override keys with --set)',
          );
        return true;
      })
      .example(
        '$0 train --config configs/synthetic-ppo.yaml',
        'the embedded default: PPO on the synthetic task with the micro-SAM',
      )
      .example(
        '$0 train -c configs/synthetic-dqn.yaml --set train.total_timesteps=5000 --set env.num_envs=2',
        'DQN, shorter, two envs',
      )
      .example(
        '$0 train --resume runs/synthetic-ppo-20250101-120000',
        'continue an interrupted run from its latest checkpoint',
      )
      .epilogue(
        "Writes runs/<name>/: config.yaml, metrics.jsonl, TensorBoard events (tensorboard --logdir runs), checkpoints/, eval.json and report/*.png. Ctrl-C saves a checkpoint and stops. With --resume, --set changes are written into the run's config.yaml.",
      ),
  handler: async (a) => {
    const { loadConfig } = await import('../../config/load-config');
    const { trainRun } = await import('../../runs/train-run');
    const { formatEvaluationTable } = await import('../../eval/compare');
    const overrides = setList(a.set);
    let config;
    if (a.config) config = loadConfig(a.config, { overrides });
    else {
      const { openRunDir } = await import('../../runs/run-dir');
      config = openRunDir(a.resume!, overrides).config;
    }
    await startBackend(a.backend, config.sam.backend, stderrLog);
    const result = await trainRun({
      config,
      configFile: a.config ?? null,
      resumeDir: a.resume,
      resumeOverrides: overrides,
      progress: a.progress && config.train.progress ? process.stderr : null,
    });
    if (result.stopped) return;
    process.stdout.write(`\n${formatEvaluationTable(result.evaluation)}\n`);
    if (result.checkpoint)
      process.stdout.write(
        `agent: ${result.checkpoint} (what \`alignsam export --run ${result.paths.root}\` exports)\n`,
      );
    process.stdout.write(`\nrun folder: ${result.paths.root}\n`);
    if (result.report)
      for (const f of [result.report.training, result.report.miouClicks, ...result.report.episodes])
        if (f) process.stdout.write(`  ${f}\n`);
  },
};
