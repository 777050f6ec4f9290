import type { CommandModule } from 'yargs';

export interface ResultsArgs {
  ablation: string;
  page: string;
  readme: string;
  check: boolean;
}

export const resultsCommand: CommandModule<object, ResultsArgs> = {
  command: 'results',
  describe: 'Write the results page and the README headline table from an ablation.json (alignsam ablate)',
  builder: (y) =>
    y
      .option('ablation', { type: 'string', default: 'docs/results/ablation.json', describe: 'The ablation summary; its ablation.png beside it is copied next to the page' })
      .option('page', { type: 'string', default: 'docs/results.md', describe: 'The results page to write' })
      .option('readme', { type: 'string', default: 'README.md', describe: 'The README whose results section is replaced' })
      .option('check', { type: 'boolean', default: false, describe: 'Write nothing; exit 1 when the page or the README differ from what the JSON gives' })
      .example('$0 results --ablation runs/ablate-synthetic-ppo/ablation.json', 'publish a finished ablation (copies the JSON and plot to docs/results/)')
      .example('$0 results --check', 'is the committed page current?'),
  handler: async (a) => {
    const fs = await import('fs');
    const path = await import('path');
    const { readAblationSummary } = await import('../../runs/ablation-summary');
    const { resultsPage, replaceReadmeSection } = await import('../../report/results-page');
    const summary = readAblationSummary(a.ablation);
    const pageDir = path.dirname(a.page);
    const dataDir = path.join(pageDir, 'results');
    const json = path.join(dataDir, 'ablation.json');
    const plot = path.join(dataDir, 'ablation.png');
    const page = resultsPage(summary, { plot: path.relative(pageDir, plot), source: path.relative(process.cwd(), json) });
    const readme = replaceReadmeSection(fs.readFileSync(a.readme, 'utf8'), summary);
    if (a.check) {
      const stale = [
        ...(fs.existsSync(a.page) && fs.readFileSync(a.page, 'utf8') === page ? [] : [a.page]),
        ...(fs.readFileSync(a.readme, 'utf8') === readme ? [] : [a.readme]),
      ];
      if (stale.length > 0) throw new Error(`not current with ${a.ablation}: ${stale.join(', ')} (run npx alignsam results)`);
      process.stdout.write(`${a.page} and ${a.readme} are current\n`);
      return;
    }
    fs.mkdirSync(dataDir, { recursive: true });
    if (path.resolve(a.ablation) !== path.resolve(json)) {
      fs.copyFileSync(a.ablation, json);
      const png = path.join(path.dirname(a.ablation), 'ablation.png');
      if (fs.existsSync(png)) fs.copyFileSync(png, plot);
    }
    fs.writeFileSync(a.page, page);
    fs.writeFileSync(a.readme, readme);
    process.stdout.write(`wrote ${a.page} and the results section of ${a.readme} from ${json}\n`);
  },
};
