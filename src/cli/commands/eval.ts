import type { CommandModule } from 'yargs';
import { setList, startBackend, stderrLog, withBackend, withAllowCode, withSet } from '../common';

export interface EvalArgs {
  run?: string;
  export?: string;
  config?: string;
  checkpoint: string;
  episodes?: number;
  set?: string | string[];
  backend?: string;
  write: boolean;
  overwrite: boolean;
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate an agent against the random, centre and oracle clickers on the same episodes',
  builder: (y) =>
    withAllowCode(
      withSet(
        withBackend(
          y
            .option('run', { type: 'string', describe: 'A run folder (its config.yaml and a checkpoint)' })
            .option('export', {
              type: 'string',
              describe: 'An exported agent folder (alignsam export); --config gives the data',
            })
            .option('config', {
              alias: 'c',
              type: 'string',
              describe:
                'With --export: the data and eval settings; alone: evaluate the baseline clickers of this config only',
            })
            .option('checkpoint', {
              type: 'string',
              default: 'latest',
              describe: "With --run: 'latest', 'best', or a checkpoint folder",
            })
            .option('episodes', {
              alias: 'n',
              type: 'number',
              describe: 'Episodes (default: eval.episodes of the config)',
            })
            .option('write', {
              type: 'boolean',
              default: true,
              describe: 'With --run: write eval.json and report/*.png into the run folder (--no-write to only print)',
            })
            .option('overwrite', {
              type: 'boolean',
              default: false,
              describe:
                "With --run: replace the run's eval.json and report/*.png when they exist (training writes them)",
            }),
        ),
      ),
    )
      .check((a) => {
        const given = [a.run, a.export, a.config].filter((v) => v !== undefined).length;
        if (a.export !== undefined && a.config !== undefined && a.run === undefined) return true;
        if (given !== 1)
          throw new Error(
            'give one of --run <run folder>, --export <export folder> --config <yaml> (the data), or --config <yaml> (baselines only)',
          );
        return true;
      })
      .example(
        '$0 eval --run runs/synthetic-ppo-20250101-120000',
        'the latest checkpoint vs the baselines, table on stdout, report in the run folder',
      )
      .example(
        '$0 eval --run runs/my-run --checkpoint best -n 200 --overwrite',
        "the best checkpoint on 200 episodes, replacing the run's report",
      )
      .example(
        '$0 eval --export exports/synthetic --config configs/synthetic-ppo.yaml',
        'an exported agent on the evaluation split of a config (the export sets grid, horizon, labels and SAM)',
      )
      .example(
        '$0 eval --config configs/coco-ppo.yaml --set eval.baselines=[oracle]',
        'how well the oracle clicker does with your SAM on your data',
      )
      .epilogue(
        'Columns: mIoU@k (mean IoU after k clicks), NoC@85/90 (clicks to reach that IoU, 20 when never), NoF (share of episodes that never reach it), final IoU, label accuracy, return.',
      ),
  handler: async (a) => {
    if (a.export) return evalExport(a);
    const { loadConfig } = await import('../../config/load-config');
    const { openRunDir, runPaths } = await import('../../runs/run-dir');
    const { createRunParts, createEvalEnv, loadAgent } = await import('../../runs/factory');
    const { evaluateFromConfig, writeEvaluationJson } = await import('../../eval/run-evaluation');
    const { formatEvaluationTable } = await import('../../eval/compare');
    const { agentPolicy } = await import('../../eval/clickers');
    const overrides = setList(a.set);
    const opened = a.run ? openRunDir(a.run, overrides) : null;
    // Checked before minutes of evaluation, and because the report being replaced is usually the
    // one training wrote.
    if (opened && a.write && !a.overwrite && (await import('fs')).existsSync(opened.paths.evalJson)) {
      throw new Error(
        `${opened.paths.evalJson} exists: add --overwrite to replace it and report/*.png, or --no-write to print the table only`,
      );
    }
    const config = opened ? opened.config : loadConfig(a.config!, { overrides });
    let ckptDir: string | null = null;
    if (opened) {
      if (a.checkpoint === 'latest') {
        if (!opened.checkpoint) throw new Error(`${a.run}: no checkpoint yet (checkpoints/model_<N>_steps)`);
        ckptDir = opened.checkpoint.dir;
      } else ckptDir = a.checkpoint === 'best' ? runPaths(a.run!).best : a.checkpoint;
      const fs = await import('fs');
      const path = await import('path');
      if (!fs.existsSync(path.join(ckptDir, 'agent.json'))) {
        const why =
          a.checkpoint === 'best'
            ? ' (the best model is kept only when train.eval_every > 0; try --checkpoint latest)'
            : '';
        throw new Error(`no agent checkpoint at ${ckptDir}${why}`);
      }
    }
    await startBackend(a.backend, config.sam.backend, stderrLog);
    const parts = await createRunParts(config, { srmCheckpointDir: ckptDir ?? undefined });
    const env = createEvalEnv(config, parts);
    const agent = ckptDir ? await loadAgent(ckptDir, null) : null;
    try {
      const episodes = a.episodes ?? config.eval.episodes;
      if (!(Number.isInteger(episodes) && episodes > 0))
        throw new Error(`--episodes must be a positive integer, got ${a.episodes}`);
      stderrLog(
        `evaluating ${ckptDir ? `${ckptDir} and ` : ''}${config.eval.baselines.join(', ') || 'no baselines'} on ${episodes} episodes of '${parts.evalData.name}'`,
      );
      const reports = await evaluateFromConfig(config, env, agent ? agentPolicy(agent) : null, episodes, {
        datasetLength: parts.evalData.length,
        pictures: opened && a.write ? config.eval.pictures : 0,
        progress: process.stderr,
      });
      process.stdout.write(`${formatEvaluationTable(reports)}\n`);
      if (opened && a.write) {
        const { writeRunReport } = await import('../../report/run-report');
        await writeEvaluationJson(opened.paths.evalJson, reports, {
          checkpoint: ckptDir,
          step: agent?.numTimesteps ?? null,
          episodes,
        });
        const files = await writeRunReport(opened.paths.root, reports);
        process.stdout.write(
          `wrote ${opened.paths.evalJson}\n${[files.training, files.miouClicks, ...files.episodes]
            .filter(Boolean)
            .map((f) => `  ${f}`)
            .join('\n')}\n`,
        );
      }
    } finally {
      agent?.dispose();
      await env.close();
      parts.dispose();
    }
  },
};

/** An exported agent on the evaluation split of a config, with the export's env settings and SAM. */
async function evalExport(a: EvalArgs): Promise<void> {
  const { loadConfig } = await import('../../config/load-config');
  const { createRunParts } = await import('../../runs/factory');
  const { loadExport } = await import('../../runs/export');
  const { exportPolicy } = await import('../../runs/predict');
  const { exportEnvOptions } = await import('../../runs/export-env');
  const { evaluateFromConfig } = await import('../../eval/run-evaluation');
  const { formatEvaluationTable } = await import('../../eval/compare');
  const { SamPromptEnv } = await import('../../env/prompt/sam-prompt-env');
  if (!a.config) throw new Error('eval --export needs --config <yaml> for the data to evaluate on');
  const base = loadConfig(a.config, { overrides: setList(a.set) });
  await startBackend(a.backend, base.sam.backend, stderrLog);
  const exp = await loadExport(a.export!);
  const m = exp.manifest.env;
  // The export decides the env; the config the data and the evaluation.
  const config = {
    ...base,
    env: { ...base.env, grid_size: m.gridSize, horizon: m.horizon, label_source: m.labelSource },
    srm: { ...base.srm, enabled: false },
    text: { ...base.text, encoder: 'none' as const },
  };
  const parts = await createRunParts(config, { sam: exp.sam });
  const env = new SamPromptEnv({ ...exportEnvOptions(exp, parts.evalData, parts.cache), seed: config.train.seed });
  try {
    for (const name of parts.evalData.categories ?? []) await exp.prepareTarget(name);
    const episodes = a.episodes ?? config.eval.episodes;
    stderrLog(
      `evaluating ${a.export} and ${config.eval.baselines.join(', ') || 'no baselines'} on ${episodes} episodes of '${parts.evalData.name}'`,
    );
    const evalConfig = {
      ...config,
      eval: { ...config.eval, clicks: config.eval.clicks.filter((k) => k <= m.horizon) },
    };
    const reports = await evaluateFromConfig(evalConfig, env, exportPolicy(exp), episodes, {
      datasetLength: parts.evalData.length,
      progress: process.stderr,
    });
    process.stdout.write(`${formatEvaluationTable(reports)}\n`);
  } finally {
    await env.close();
    parts.dispose();
    exp.dispose();
  }
}
