import type { CommandModule } from 'yargs';

export interface ResultsArgs {
  ablation: string;
  page: string;
  readme: string;
  headline: boolean;
  check: boolean;
}

export const resultsCommand: CommandModule<object, ResultsArgs> = {
  command: 'results',
  describe: 'Write the results page and the README headline table from an ablation.json (alignsam ablate)',
  builder: (y) =>
    y
      .option('ablation', {
        type: 'string',
        default: 'docs/results/ablation.json',
        describe:
          'The ablation summary; it is copied next to the page, with its plot (ablation.png and .svg) drawn there',
      })
      .option('page', { type: 'string', default: 'docs/results.md', describe: 'The results page to write' })
      .option('readme', {
        type: 'string',
        default: 'README.md',
        describe: 'The README whose results section is replaced',
      })
      .option('headline', {
        type: 'boolean',
        default: true,
        describe:
          "Replace the README's results section (--no-headline: a further page, e.g. a named task's, leaves it)",
      })
      .option('check', {
        type: 'boolean',
        default: false,
        describe: "Write nothing; exit 1 when the page, the README or the plot's SVG differ from what the JSON gives",
      })
      .example(
        '$0 results --ablation runs/ablate-synthetic-ppo/ablation.json',
        'publish a finished ablation (the JSON and its plot into docs/results/)',
      )
      .example(
        '$0 results --ablation runs/ablate-synthetic-named-ppo/ablation.json --page docs/results-named.md --no-headline',
        'a second page (its data goes to docs/results-named/)',
      )
      .example('$0 results --check', 'is the committed page current?'),
  handler: async (a) => {
    const fs = await import('fs');
    const path = await import('path');
    const { readAblationSummary } = await import('../../report/ablation-summary');
    const { resultsPage, replaceReadmeSection } = await import('../../report/results-page');
    const { ablationPlot, writeAblationPlot } = await import('../../report/ablation-plot');
    const { svgDocument } = await import('../../report/svg');
    const summary = readAblationSummary(a.ablation);
    const pageDir = path.dirname(a.page);
    // Each page keeps its data in a folder of its own name: docs/results.md -> docs/results/.
    const dataDir = path.join(pageDir, path.basename(a.page, '.md'));
    const json = path.join(dataDir, 'ablation.json');
    const plot = path.join(dataDir, 'ablation.png');
    const plotSvg = path.join(dataDir, 'ablation.svg');
    const page = resultsPage(summary, {
      plot: path.relative(pageDir, plot),
      source: path.relative(process.cwd(), json),
    });
    const readmeNow = fs.readFileSync(a.readme, 'utf8');
    const readme = a.headline ? replaceReadmeSection(readmeNow, summary) : readmeNow;
    if (a.check) {
      const stale = [
        ...(fs.existsSync(a.page) && fs.readFileSync(a.page, 'utf8') === page ? [] : [a.page]),
        ...(readmeNow === readme ? [] : [a.readme]),
        ...(fs.existsSync(plotSvg) && fs.readFileSync(plotSvg, 'utf8') === svgDocument(ablationPlot(summary))
          ? []
          : [plotSvg]),
      ];
      if (stale.length > 0)
        throw new Error(`not current with ${a.ablation}: ${stale.join(', ')} (run npx alignsam results)`);
      process.stdout.write(`${a.page}, ${a.readme} and ${plotSvg} are current\n`);
      return;
    }
    fs.mkdirSync(dataDir, { recursive: true });
    if (path.resolve(a.ablation) !== path.resolve(json)) fs.copyFileSync(a.ablation, json);
    await writeAblationPlot(summary, plot);
    fs.writeFileSync(a.page, page);
    if (a.headline) fs.writeFileSync(a.readme, readme);
    process.stdout.write(
      `wrote ${a.page}, ${a.headline ? `the results section of ${a.readme}, ` : ''}${plot} and ${plotSvg} from ${json}\n`,
    );
  },
};
