import { RFM_GRID, percentileCont } from '@segmenta/analytics';
import type { Analysis } from './customer-analysis';
import type { ReadSummary } from './orders-reader';

const esc = (text: string | number) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const money = (v: number) => v.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: 0 });
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const FEATURE_LABELS: Record<string, string> = { revenue: 'revenue', orders: 'orders', recency_days: 'days since last order', aov: 'basket', tenure_days: 'tenure' };
const PALETTE = ['#4063d8', '#e8833a', '#3aa675', '#c44e52', '#8172b3', '#937860', '#da8bc3', '#8c8c8c', '#ccb974', '#64b5cd'];

/** Horizontal bars: one row per item, value labels at the end. */
function bars(items: Array<{ label: string; value: number; text: string; color?: string }>, width = 580): string {
  const max = Math.max(...items.map((i) => i.value), 1e-9);
  const row = 24;
  const labelWidth = Math.min(320, 40 + 6.6 * Math.max(...items.map((i) => i.label.length)));
  const body = items
    .map((item, i) => {
      const w = Math.max(1, ((width - labelWidth - 90) * item.value) / max);
      return `<text x="${labelWidth - 8}" y="${i * row + 16}" text-anchor="end">${esc(item.label)}</text><rect x="${labelWidth}" y="${i * row + 4}" width="${w.toFixed(1)}" height="16" rx="3" fill="${item.color ?? PALETTE[0]}"/><text x="${labelWidth + w + 6}" y="${i * row + 16}">${esc(item.text)}</text>`;
    })
    .join('');
  return `<svg class="chart" viewBox="0 0 ${width} ${items.length * row + 4}" width="${width}" height="${items.length * row + 4}">${body}</svg>`;
}

/** Histogram of values up to the 99th percentile (the tail in the last bin). */
function histogram(values: number[], bins = 24, width = 560, height = 180): string {
  if (values.length === 0) return '<p>No values.</p>';
  const sorted = [...values].sort((a, b) => a - b);
  const top = percentileCont(sorted, 0.99) || sorted[sorted.length - 1] || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of sorted) counts[Math.min(bins - 1, Math.max(0, Math.floor((v / top) * bins)))] += 1;
  const max = Math.max(...counts);
  const bw = (width - 40) / bins;
  const rects = counts.map((c, i) => `<rect x="${(30 + i * bw).toFixed(1)}" y="${(height - 30 - ((height - 40) * c) / max).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(((height - 40) * c) / max).toFixed(1)}" fill="${PALETTE[0]}"><title>${money((i * top) / bins)}–${money(((i + 1) * top) / bins)}${i === bins - 1 ? '+' : ''}: ${c} customers</title></rect>`).join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${(30 + f * (width - 40)).toFixed(1)}" y="${height - 12}" text-anchor="middle">${money(f * top)}${f === 1 ? '+' : ''}</text>`).join('');
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${rects}${ticks}</svg>`;
}

function rfmGrid(analysis: Analysis): string {
  const counts = new Map<string, number>();
  for (const c of analysis.customers) counts.set(`${c.rfm.r},${c.rfm.f}`, (counts.get(`${c.rfm.r},${c.rfm.f}`) ?? 0) + 1);
  const max = Math.max(...counts.values(), 1);
  const nameOf = (r: number, f: number) => RFM_GRID.find((s) => s.cells.some(([cr, cf]) => cr === r && cf === f))?.name ?? '';
  const rows = [5, 4, 3, 2, 1]
    .map((r) => {
      const cells = [1, 2, 3, 4, 5].map((f) => {
        const n = counts.get(`${r},${f}`) ?? 0;
        return `<td style="background: rgba(64, 99, 216, ${(0.08 + (0.8 * n) / max).toFixed(2)})"><b>${n}</b><small>${esc(nameOf(r, f))}</small></td>`;
      });
      return `<tr><th>R ${r}</th>${cells.join('')}</tr>`;
    })
    .join('');
  return `<table class="rfm"><tr><th></th>${[1, 2, 3, 4, 5].map((f) => `<th>F ${f}</th>`).join('')}</tr>${rows}</table>`;
}

/** A self-contained HTML report: no scripts, no external files. */
export function renderReport(analysis: Analysis, summary: ReadSummary, source: string): string {
  const { customers, personas, bgnbd, gammaGamma } = analysis;
  const revenue = customers.reduce((s, c) => s + Math.max(0, c.revenue), 0);
  const byCluster = [...personas].sort((a, b) => b.size - a.size);
  const colorOf = new Map(byCluster.map((p, i) => [p.cluster, PALETTE[i % PALETTE.length]]));
  const lifecycle = new Map<string, number>();
  for (const c of customers) lifecycle.set(c.lifecycle, (lifecycle.get(c.lifecycle) ?? 0) + 1);
  const medianOf = (key: string, p: (typeof personas)[number]) => p.medians[key];
  const cards = byCluster
    .map(
      (p) => `<div class="card" style="border-top: 4px solid ${colorOf.get(p.cluster)}">
  <h3>${esc(p.name)}</h3>
  <p class="big">${p.size.toLocaleString('en-US')} customers · ${pct(p.customerShare)} of customers · ${pct(p.revenueShare)} of revenue</p>
  <table class="kv">
    <tr><td>median revenue</td><td>${money(medianOf('revenue', p))}</td><td>median orders</td><td>${medianOf('orders', p)}</td></tr>
    <tr><td>median basket</td><td>${money(medianOf('aov', p))}</td><td>days since last order</td><td>${Math.round(medianOf('recency_days', p))}</td></tr>
    <tr><td>tenure (days)</td><td>${Math.round(medianOf('tenure_days', p))}</td><td>mean CLV</td><td>${money(customers.filter((c) => c.cluster === p.cluster).reduce((s, c) => s + c.clv, 0) / (p.size || 1))}</td></tr>
  </table>
  <p><b>Stands out by</b> ${Object.entries(p.zScores)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .slice(0, 3)
    .map(([k, z]) => `${esc(FEATURE_LABELS[k] ?? k)} ${z >= 0 ? '+' : ''}${z.toFixed(1)} sd`)
    .join(', ')}</p>
  ${p.topCategories.length ? `<p><b>Top categories</b> ${p.topCategories.map((c) => `${esc(c.category)} ${pct(c.share)}`).join(', ')}</p>` : ''}
  <p><b>Lifecycle</b> ${p.lifecycleMix.map((l) => `${esc(l.stage)} ${pct(l.share)}`).join(', ')}</p>
  <p class="treatment">${esc(p.treatment.text)}</p>
</div>`,
    )
    .join('\n');
  const skipped = summary.skipped.noCustomer + summary.skipped.badDate + summary.skipped.badAmount;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Customer analysis · ${esc(source)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330; background: #f5f6fa; }
header { background: #1d2330; color: #fff; padding: 24px 40px; } header h1 { margin: 0 0 6px; font-size: 24px; } header p { margin: 0; opacity: .8; }
main { padding: 24px 40px; max-width: 1280px; }
section { background: #fff; border-radius: 10px; padding: 20px 24px; margin-bottom: 20px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
h2 { margin: 0 0 14px; font-size: 18px; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; }
.stat { background: #f5f6fa; border-radius: 8px; padding: 12px; } .stat b { display: block; font-size: 22px; } .stat span { color: #5b6475; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 16px; }
.card { background: #fff; border-radius: 10px; padding: 16px 18px; box-shadow: 0 1px 3px rgba(0,0,0,.1); } .card h3 { margin: 0 0 4px; font-size: 16px; }
.card p { margin: 6px 0; } .big { color: #5b6475; } .treatment { background: #eef3ff; border-radius: 6px; padding: 8px 10px; }
.kv { width: 100%; border-collapse: collapse; font-size: 13px; } .kv td { padding: 2px 4px; } .kv td:nth-child(odd) { color: #5b6475; }
.chart text { font-size: 12px; fill: #1d2330; }
.rfm { border-collapse: separate; border-spacing: 4px; } .rfm td { width: 120px; height: 58px; text-align: center; border-radius: 6px; vertical-align: middle; }
.rfm td b { display: block; font-size: 16px; } .rfm td small { color: #1d2330; opacity: .75; } .rfm th { color: #5b6475; font-weight: 600; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; } .two svg { max-width: 100%; height: auto; } @media (max-width: 1000px) { .two { grid-template-columns: 1fr; } }
.note { color: #5b6475; font-size: 13px; }
</style></head>
<body>
<header><h1>Customer analysis</h1><p>${esc(source)} · orders from ${day(summary.first)} to ${day(summary.last)} · analysed as of ${day(analysis.asOf)}</p></header>
<main>
<section><h2>At a glance</h2><div class="stats">
  <div class="stat"><b>${customers.length.toLocaleString('en-US')}</b><span>customers</span></div>
  <div class="stat"><b>${summary.orders.toLocaleString('en-US')}</b><span>orders (${summary.rows.toLocaleString('en-US')} rows)</span></div>
  <div class="stat"><b>${money(revenue)}</b><span>net revenue</span></div>
  <div class="stat"><b>${summary.returns.toLocaleString('en-US')}</b><span>returns / cancellations (${money(summary.returnedValue)})</span></div>
  <div class="stat"><b>${money(customers.reduce((s, c) => s + c.clv, 0))}</b><span>expected value, next 12 months</span></div>
  <div class="stat"><b>${pct(customers.reduce((s, c) => s + c.pAlive, 0) / customers.length)}</b><span>mean P(alive)</span></div>
</div>
${skipped ? `<p class="note">${skipped} rows skipped (no customer: ${summary.skipped.noCustomer}, unreadable date: ${summary.skipped.badDate}, unreadable amount: ${summary.skipped.badAmount}).</p>` : ''}</section>
<section><h2>Discovered segments</h2><div class="two">
  <div><p class="note">Customers per segment</p>${bars(byCluster.map((p) => ({ label: p.name, value: p.size, text: `${p.size.toLocaleString('en-US')} (${pct(p.customerShare)})`, color: colorOf.get(p.cluster) })))}</div>
  <div><p class="note">Share of revenue</p>${bars(byCluster.map((p) => ({ label: p.name, value: p.revenueShare, text: pct(p.revenueShare), color: colorOf.get(p.cluster) })))}</div>
</div>
<p class="note">${analysis.kChoice.k} segments chosen by silhouette among k = ${analysis.kChoice.scores[0].k}…${analysis.kChoice.scores[analysis.kChoice.scores.length - 1].k} (k-means++ on log-scaled revenue, orders, recency, basket and tenure).</p></section>
<section><h2>Persona cards</h2><div class="cards">${cards}</div></section>
<section class="two"><div><h2>RFM grid</h2>${rfmGrid(analysis)}<p class="note">Recency (R) and frequency (F) scored 1–5 by quintiles; cells named after the standard RFM segments.</p></div>
<div><h2>Lifecycle stages</h2>${bars([...lifecycle.entries()].sort((a, b) => b[1] - a[1]).map(([stage, n], i) => ({ label: stage, value: n, text: `${n} (${pct(n / customers.length)})`, color: PALETTE[(i + 2) % PALETTE.length] })), 480)}</div></section>
<section><h2>Customer lifetime value, next 12 months</h2>${histogram(customers.map((c) => c.clv))}
<p class="note">BG/NBD (r ${bgnbd.params.r.toFixed(3)}, α ${bgnbd.params.alpha.toFixed(3)}, a ${bgnbd.params.a.toFixed(3)}, b ${bgnbd.params.b.toFixed(3)}; log-likelihood ${bgnbd.logLikelihood.toFixed(1)}${bgnbd.converged ? '' : ', not converged'}) for expected orders and P(alive);
${gammaGamma ? `Gamma-Gamma (p ${gammaGamma.params.p.toFixed(2)}, q ${gammaGamma.params.q.toFixed(2)}, γ ${gammaGamma.params.gamma.toFixed(2)}) for spend per order` : 'each customer’s own average basket for spend per order (the Gamma-Gamma fit had q ≤ 1)'}; monthly discounting.</p></section>
</main></body></html>
`;
}
