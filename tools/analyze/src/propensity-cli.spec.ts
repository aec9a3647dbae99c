import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normal, seededRandom } from '@segmenta/analytics';
import { UsageError } from '@segmenta/cli';
import { runPropensity } from './propensity-cli';

/** A customer table with a known signal: churn is likelier with few orders, long lapses and plan "free". */
function writeCustomers(dir: string): string {
  const random = seededRandom(3);
  const lines = ['customer_id,orders,days_since_last_order,plan,country,churned'];
  for (let i = 0; i < 4000; i += 1) {
    const orders = Math.max(0, Math.round(4 + 3 * normal(random)));
    const lapse = Math.max(0, Math.round(60 + 40 * normal(random)));
    const plan = ['free', 'basic', 'pro'][Math.floor(random() * 3)];
    const logit = -0.5 - 0.4 * (orders - 4) + 0.03 * (lapse - 60) + (plan === 'free' ? 1 : 0);
    const churned = random() < 1 / (1 + Math.exp(-logit)) ? 'yes' : 'no';
    // Some blanks, as real exports have.
    lines.push(`c${i},${i % 50 === 0 ? '' : orders},${lapse},${plan},"${i % 7 === 0 ? '' : 'DE'}",${churned}`);
  }
  const file = join(dir, 'customers.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('npm run propensity', () => {
  const dir = mkdtempSync(join(tmpdir(), 'propensity-'));
  const customers = writeCustomers(dir);

  it('trains on every other column, reports held-out AUC and calibration, and writes a score per customer', () => {
    const printed: string[] = [];
    const result = runPropensity(['--customers', customers, '--label', 'churned', '--id', 'customer_id'], (t) => printed.push(t));
    const text = printed.join('');
    expect(result.auc).toBeGreaterThan(0.75);
    expect(text).toContain('orders: numeric, 80 blank');
    expect(text).toContain('plan: categorical, 3 levels');
    expect(text).toMatch(/held-out AUC 0\.\d{4}/);
    expect(text).toContain('calibration');
    const scores = readFileSync(result.out, 'utf8').trim().split('\n');
    expect(scores[0]).toBe('customer_id,propensity_churned');
    expect(scores).toHaveLength(4001);
    expect(scores[1]).toMatch(/^c0,0\.\d{6}$/);
  });

  it('names a missing column and an unknown option', () => {
    expect(() => runPropensity(['--customers', customers, '--label', 'cancelled'], () => undefined)).toThrow(
      new UsageError('--label cancelled: no such column (columns: customer_id, orders, days_since_last_order, plan, country, churned)'),
    );
    expect(() => runPropensity(['--customers', customers, '--label', 'churned', '--target', 'x'], () => undefined)).toThrow("Unknown option '--target'");
  });
});
