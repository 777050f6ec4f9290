/**
 * Write the micro-SAM's synthetic scenes to a safetensors file (see src/data/synthetic-dump.ts),
 * for the PyTorch twin that trains the micro-SAM on a GPU (scripts/micro-sam-torch).
 *
 *   npx ts-node --transpile-only scripts/dump-synthetic-scenes.ts --split train --start 0 --count 1000 --out scenes.safetensors
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { SPLIT_NAMES, type SplitName } from '../src/data/synthetic';
import { dumpSyntheticScenes } from '../src/data/synthetic-dump';
import { MICRO_SAM_DATA } from '../src/sam-training/micro-sam-config';

const argv = yargs(hideBin(process.argv))
  .option('split', { choices: SPLIT_NAMES as unknown as string[], default: 'train' })
  .option('start', { type: 'number', default: 0, describe: 'first scene index in the split' })
  .option('count', { type: 'number', demandOption: true })
  .option('out', { type: 'string', demandOption: true })
  .strict()
  .parseSync();

dumpSyntheticScenes({
  config: MICRO_SAM_DATA,
  split: argv.split as SplitName,
  start: argv.start,
  count: argv.count,
  out: argv.out,
}).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
