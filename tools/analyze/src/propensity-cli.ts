import { writeFileSync } from 'node:fs';
import { binaryLabels, encodeTable, predictProbabilities, trainPropensity } from '@segmenta/analytics';
import { UsageError, parseCommandLine, runCli } from '@segmenta/cli';
import { csvField, readCsv } from './cli-support';

const USAGE = `Usage: npm run propensity -- --customers <file.csv> --label <column> [options]
  --id <column>        customer id column, copied to the scores (default: the row number)
  --out <file.csv>     where to write the scores (default: <customers>.scores.csv)
  --exclude <a,b,…>    columns not to train on (besides the id and the label)
  --l2 <number>        L2 penalty on the standardised weights, default 1
  --test-share <0…1>   share of rows held out for AUC and calibration, default 0.25
  --seed <n>           split seed, default 1

Trains an L2-regularised logistic regression on every other column (numbers standardised, text
one-hot encoded, blanks handled), prints the held-out AUC and a calibration table, and writes
P(label = 1) for every row.`;

/** The whole command; `print` receives the report. Returns the held-out AUC and where the scores went. */
export function runPropensity(argv: string[], print: (text: string) => void): { auc: number; out: string } {
  const names = ['customers', 'label', 'id', 'out', 'exclude', 'l2', 'test-share', 'seed'];
  const args = parseCommandLine(argv, Object.fromEntries(names.map((name) => [name, 'string' as const]))).values;
  const file = args.get('customers');
  const label = args.get('label');
  if (!file) throw new UsageError('--customers is required');
  if (!label) throw new UsageError('--label is required');
  const { header, rows } = readCsv(file);
  const id = args.get('id');
  for (const [option, column] of [
    ['label', label],
    ['id', id],
  ] as const) {
    if (column !== undefined && !header.includes(column)) throw new UsageError(`--${option} ${column}: no such column (columns: ${header.join(', ')})`);
  }
  const excluded = new Set([
    label,
    ...(id ? [id] : []),
    ...(args
      .get('exclude')
      ?.split(',')
      .map((c) => c.trim()) ?? []),
  ]);
  const features = header.filter((h) => !excluded.has(h));
  if (features.length === 0) throw new UsageError('no columns left to train on');
  const l2 = Number(args.get('l2') ?? 1);
  const testShare = Number(args.get('test-share') ?? 0.25);
  const seed = Number(args.get('seed') ?? 1);
  if (!(l2 >= 0)) throw new UsageError('--l2 must be a number ≥ 0');
  if (!(testShare > 0 && testShare < 1)) throw new UsageError('--test-share must be between 0 and 1');

  const y = binaryLabels(rows, label);
  const encoded = encodeTable(rows, features);
  print(`${rows.length} customers, label "${label}": ${y.reduce((s, v) => s + v, 0)} positive\n`);
  for (const c of encoded.columns) print(`  ${c.name}: ${c.kind}${c.kind === 'categorical' ? `, ${c.levels} levels` : ''}${c.blanks ? `, ${c.blanks} blank` : ''}\n`);
  const report = trainPropensity(encoded.x, y, { featureNames: encoded.featureNames, l2, testShare, seed });
  print(`\ntrained on ${report.trainRows} rows (${report.model.iterations} iterations${report.model.converged ? '' : ', NOT converged'}), held out ${report.testRows}\n`);
  print(`held-out AUC ${report.auc.toFixed(4)}   Brier score ${report.brier.toFixed(4)}\n\n`);
  print('calibration (held-out rows in equal-count bins)\n  scores            rows   predicted  observed\n');
  for (const b of report.calibration) {
    print(`  ${b.from.toFixed(3)}–${b.to.toFixed(3)}  ${String(b.count).padStart(6)}   ${b.meanPredicted.toFixed(3).padStart(9)}  ${b.observedRate.toFixed(3).padStart(8)}\n`);
  }
  const strongest = encoded.featureNames
    .map((name, j) => ({ name, w: report.model.weights[j] }))
    .sort((a, b) => Math.abs(b.w) - Math.abs(a.w))
    .slice(0, 8);
  print(`\nstrongest features (standardised weights)\n${strongest.map((f) => `  ${f.w >= 0 ? '+' : ''}${f.w.toFixed(3)}  ${f.name}`).join('\n')}\n`);

  // Every row scored by the model trained on the training rows.
  const scores = predictProbabilities(report.model, encoded.x);
  const out = args.get('out') ?? file.replace(/(\.csv)?$/i, '.scores.csv');
  const lines = [`${csvField(id ?? 'row')},${csvField(`propensity_${label}`)}`, ...rows.map((r, i) => `${csvField(id ? r[id] : i + 1)},${scores[i].toFixed(6)}`)];
  writeFileSync(out, `${lines.join('\n')}\n`);
  print(`\nscores written to ${out}\n`);
  return { auc: report.auc, out };
}

if (require.main === module) runCli(USAGE, () => void runPropensity(process.argv.slice(2), (text) => process.stdout.write(text)));
