import { RFM_GRID } from '@segmenta/analytics';
import type { Analysis } from './customer-analysis';
import type { ReadSummary } from './orders-reader';
import { moneyFormat } from './cli-support';

const esc = (text: string | number) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const FEATURE_LABELS: Record<string, string> = { revenue: 'net revenue', orders: 'orders', recency_days: 'days since last order', aov: 'average basket', tenure_days: 'tenure' };
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

/**
 * Histogram of CLV on a log scale (CLV spans orders of magnitude: on a linear one everything but the
 * top bin is empty), with customer counts on its axis and a bar for those worth 0; as wide as its card.
 */
function clvHistogram(values: number[], whole: (v: number) => string, cents: (v: number) => string, bins = 20, width = 1000, height = 220): string {
  const money = (v: number) => (v < 10 ? cents(v) : whole(v));
  if (values.length === 0) return '<p>No values.</p>';
  const positive = values.filter((v) => v > 0.005);
  const zero = values.length - positive.length;
  const lo = Math.log10(Math.max(0.01, Math.min(...positive, 1)));
  const hi = Math.log10(Math.max(...positive, 1)) + 1e-9;
  const counts = new Array<number>(bins).fill(0);
  for (const v of positive) counts[Math.min(bins - 1, Math.floor(((Math.log10(v) - lo) / (hi - lo || 1)) * bins))] += 1;
  const max = Math.max(...counts, zero, 1);
  const left = 60;
  const plot = height - 50;
  const slots = bins + (zero ? 1 : 0);
  const bw = (width - left - 10) / slots;
  const edge = (i: number) => 10 ** (lo + ((hi - lo) * i) / bins);
  const bar = (slot: number, c: number, title: string, color: string) =>
    `<rect x="${(left + slot * bw + 1).toFixed(1)}" y="${(10 + plot - (plot * c) / max).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${((plot * c) / max).toFixed(1)}" fill="${color}"><title>${title}: ${c.toLocaleString('en-US')} customers</title></rect>`;
  const rects = [zero ? bar(0, zero, `${money(0)}`, PALETTE[7]) : '', ...counts.map((c, i) => bar(i + (zero ? 1 : 0), c, `${money(edge(i))}–${money(edge(i + 1))}`, PALETTE[0]))].join('');
  const yTicks = [0, 0.5, 1]
    .map((f) => Math.round(f * max))
    .map((n) => `<text x="${left - 6}" y="${(14 + plot - (plot * n) / max).toFixed(1)}" text-anchor="end">${n.toLocaleString('en-US')}</text>`)
    .join('');
  const yLabel = `<text x="14" y="${10 + plot / 2}" text-anchor="middle" transform="rotate(-90 14 ${10 + plot / 2})">customers</text>`;
  const xTicks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<text x="${(left + (zero ? bw : 0) + f * (width - left - 10 - (zero ? bw : 0))).toFixed(1)}" y="${height - 22}" text-anchor="middle">${money(edge(f * bins))}</text>`)
    .join('');
  const xLabel = `<text x="${(left + width) / 2}" y="${height - 4}" text-anchor="middle">CLV per customer (log scale)</text>`;
  return `<svg class="chart clv" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">${rects}${yTicks}${yLabel}${xTicks}${xLabel}</svg>`;
}

/** The silhouette curve: mean ± one standard error per k, the band within noise of the best, the chosen k marked. */
function silhouetteCurve(choice: Analysis['kChoice'], width = 560, height = 200): string {
  const { scores } = choice;
  const best = scores.find((s) => s.k === choice.bestK) ?? scores[0];
  const lo = Math.min(...scores.map((s) => s.silhouette - s.se), best.silhouette - choice.noise);
  const hi = Math.max(...scores.map((s) => s.silhouette + s.se));
  const pad = (hi - lo) * 0.1 || 0.01;
  const [y0, y1] = [lo - pad, hi + pad];
  const left = 48;
  const x = (k: number) => left + ((k - scores[0].k) / Math.max(1, scores[scores.length - 1].k - scores[0].k)) * (width - left - 16);
  const y = (v: number) => 10 + ((y1 - v) / (y1 - y0)) * (height - 40);
  const band = `<rect x="${left}" y="${y(best.silhouette).toFixed(1)}" width="${width - left - 16}" height="${(y(best.silhouette - choice.noise) - y(best.silhouette)).toFixed(1)}" fill="#3aa675" opacity="0.15"><title>within noise of the best (${choice.noise.toFixed(3)})</title></rect>`;
  const line = `<polyline fill="none" stroke="${PALETTE[0]}" stroke-width="2" points="${scores.map((s) => `${x(s.k).toFixed(1)},${y(s.silhouette).toFixed(1)}`).join(' ')}"/>`;
  const points = scores
    .map(
      (s) =>
        `<line x1="${x(s.k).toFixed(1)}" x2="${x(s.k).toFixed(1)}" y1="${y(s.silhouette - s.se).toFixed(1)}" y2="${y(s.silhouette + s.se).toFixed(1)}" stroke="${PALETTE[0]}"/><circle cx="${x(s.k).toFixed(1)}" cy="${y(s.silhouette).toFixed(1)}" r="${s.k === choice.k ? 6 : 3}" fill="${s.k === choice.k ? PALETTE[2] : PALETTE[0]}"><title>k = ${s.k}: silhouette ${s.silhouette.toFixed(3)} ± ${s.se.toFixed(3)}</title></circle>`,
    )
    .join('');
  const step = Math.max(1, Math.ceil(scores.length / 12));
  const xTicks = scores
    .filter((_, i) => i % step === 0 || scores[i].k === choice.k)
    .map((s) => `<text x="${x(s.k).toFixed(1)}" y="${height - 14}" text-anchor="middle">${s.k}</text>`)
    .join('');
  const yTicks = [y0 + pad, (y0 + y1) / 2, y1 - pad].map((v) => `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(3)}</text>`).join('');
  const axis = `<text x="${(left + width) / 2}" y="${height}" text-anchor="middle">number of segments k</text>`;
  return `<svg class="chart silhouette" viewBox="0 0 ${width} ${height + 4}" width="${width}" height="${height + 4}">${band}${line}${points}${xTicks}${yTicks}${axis}</svg>`;
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

/** Why this k: the smallest within noise of the best silhouette. */
export function kChoiceText(choice: Analysis['kChoice']): string {
  const best = choice.scores.find((s) => s.k === choice.bestK);
  const chosen = choice.scores.find((s) => s.k === choice.k);
  if (!best || !chosen) return `${choice.k} segments.`;
  const range = `k = ${choice.scores[0].k}–${choice.scores[choice.scores.length - 1].k}`;
  if (choice.k === choice.bestK) return `${choice.k} segments: the best silhouette (${best.silhouette.toFixed(3)}) among ${range}.`;
  return `${choice.k} segments: the smallest number whose silhouette (${chosen.silhouette.toFixed(3)}) is within noise (${choice.noise.toFixed(3)}) of the best (${best.silhouette.toFixed(3)} at k = ${best.k}) among ${range}; more segments would not be better separated.`;
}

/** A self-contained HTML report: no scripts, no external files. */
/** What CLV means here: horizon, margin, discounting and currency. */
export function clvDefinition(analysis: Pick<Analysis, 'clv'>, currency: string | null): string {
  const { months, margin, monthlyDiscountRate } = analysis.clv;
  const value = margin === 1 ? 'expected revenue' : `expected gross profit at a ${Number((margin * 100).toFixed(1))} % margin`;
  return `CLV over the next ${months} months: ${value}, future orders discounted ${Number((monthlyDiscountRate * 100).toFixed(2))} % a month, in ${currency ?? '¤, the file’s currency (name it with --currency)'}`;
}

export function renderReport(analysis: Analysis, summary: ReadSummary, source: string, currency: string | null = null): string {
  const money = moneyFormat(currency);
  const { customers, personas, bgnbd, gammaGamma } = analysis;
  // Customers with a purchase worth more than 0: the only ones with model values.
  const modelled = customers.filter((c) => c.clv !== null);
  const r = analysis.reconciliation;
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
    <tr><td>tenure (days)</td><td>${Math.round(medianOf('tenure_days', p))}</td><td>mean CLV, ${analysis.clv.months} months</td><td>${money(customers.filter((c) => c.cluster === p.cluster).reduce((s, c) => s + (c.clv ?? 0), 0) / (p.size || 1))}</td></tr>
  </table>
  <p><b>Stands out by</b> ${Object.entries(p.zScores)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .slice(0, 3)
    .map(([k, z]) => `${esc(FEATURE_LABELS[k] ?? k)} ${Math.abs(z).toFixed(1)} standard deviation${Math.abs(z).toFixed(1) === '1.0' ? '' : 's'} ${z >= 0 ? 'above' : 'below'} average`)
    .join(', ')}</p>
  ${p.topCategories.length ? `<p><b>Top categories</b> ${p.topCategories.map((c) => `${esc(c.category)} ${pct(c.share)}`).join(', ')}</p>` : ''}
  ${p.topCountries.length > 1 || (p.topCountries[0] && p.topCountries[0].share < 1) ? `<p><b>Countries</b> ${p.topCountries.map((c) => `${esc(c.country)} ${pct(c.share)}`).join(', ')}</p>` : p.topCountries.length ? `<p><b>Country</b> ${esc(p.topCountries[0].country)}</p>` : ''}
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
.note { color: #5b6475; font-size: 13px; } .warning { background: #fff4e0; border-left: 4px solid #e8833a; padding: 8px 12px; border-radius: 6px; }
</style></head>
<body>
<header><h1>Customer analysis</h1><p>${esc(source)} · orders from ${day(summary.first)} to ${day(summary.last)} · analysed as of ${day(analysis.asOf)} · ${currency ? `amounts in ${currency}` : 'amounts in ¤, the file’s currency (name it with --currency)'}</p></header>
<main>
<section><h2>At a glance</h2><div class="stats">
  <div class="stat"><b>${customers.length.toLocaleString('en-US')}</b><span>customers</span></div>
  <div class="stat"><b>${summary.orders.toLocaleString('en-US')}</b><span>orders (${summary.rows.toLocaleString('en-US')} rows)</span></div>
  <div class="stat"><b>${money(revenue)}</b><span>net revenue</span></div>
  <div class="stat"><b>${summary.returns.toLocaleString('en-US')}</b><span>returns and cancellations (${money(summary.returnedValue)} returned)</span></div>
  <div class="stat"><b>${money(modelled.reduce((s, c) => s + (c.clv ?? 0), 0))}</b><span>expected value of all customers, next ${analysis.clv.months} months (CLV)</span></div>
  ${analysis.dropout.identified ? `<div class="stat"><b>${pct(modelled.reduce((s, c) => s + (c.pAlive ?? 0), 0) / modelled.length)}</b><span>mean P(alive)</span></div>` : ''}
</div>
<p class="note">Returns and cancellations are matched to the orders they undo (by order id, else by customer, product and amount): ${r.fullyCancelled.toLocaleString('en-US')} orders fully cancelled are left out of the models, ${r.partlyRefunded.toLocaleString('en-US')} partly refunded ones count with what was kept; ${money(r.unmatchedValue)} of returns matched no order in the file (bought before it) and reduce revenue only.
${analysis.withoutPurchase ? `${analysis.withoutPurchase.toLocaleString('en-US')} customers with no positive purchase (only orders worth 0, cancelled or returned) have no P(alive), expected orders or CLV.` : ''}</p>
${analysis.dropout.identified ? '' : `<p class="warning"><b>P(alive) is not reported:</b> ${esc(analysis.dropout.text)}.</p>`}
${skipped ? `<p class="note">${skipped} rows skipped (no customer: ${summary.skipped.noCustomer}, unreadable date: ${summary.skipped.badDate}, unreadable amount: ${summary.skipped.badAmount}).</p>` : ''}</section>
<section><h2>Discovered segments</h2><div class="two">
  <div><p class="note">Customers per segment</p>${bars(byCluster.map((p) => ({ label: p.name, value: p.size, text: `${p.size.toLocaleString('en-US')} (${pct(p.customerShare)})`, color: colorOf.get(p.cluster) })))}</div>
  <div><p class="note">Share of net revenue</p>${bars(byCluster.map((p) => ({ label: p.name, value: p.revenueShare, text: pct(p.revenueShare), color: colorOf.get(p.cluster) })))}</div>
</div>
<div class="two"><div>${silhouetteCurve(analysis.kChoice)}</div><div><p class="note">${kChoiceText(analysis.kChoice)} k-means++ on log-scaled revenue, orders, recency, basket and tenure; silhouette (−1 to 1: how much closer customers are to their own segment than to the next) averaged over ${analysis.kChoice.resamples} resamples, bars one standard error; green band: within noise of the best.</p></div></div></section>
<section><h2>Persona cards</h2><div class="cards">${cards}</div></section>
<section class="two"><div><h2>RFM grid</h2>${rfmGrid(analysis)}<p class="note">Recency (R) and frequency (F) scored 1–5 by quintiles; cells named after the standard RFM segments.</p></div>
<div><h2>Lifecycle stages</h2>${analysis.dropout.identified ? '' : '<p class="note">From recency rules only (lapsed: no order in 180 days; at risk: more than twice the customer’s usual gap), as the model could not identify dropout.</p>'}${bars(
    [...lifecycle.entries()].sort((a, b) => b[1] - a[1]).map(([stage, n], i) => ({ label: stage, value: n, text: `${n} (${pct(n / customers.length)})`, color: PALETTE[(i + 2) % PALETTE.length] })),
    480,
  )}</div></section>
<section><h2>Customer lifetime value (CLV), next ${analysis.clv.months} months</h2><p class="note">${esc(clvDefinition(analysis, currency))}. Customers per CLV band; bands on a log scale${modelled.some((c) => (c.clv ?? 0) <= 0.005) ? ', the grey bar those worth nothing' : ''}.</p>${clvHistogram(
    modelled.map((c) => c.clv ?? 0),
    money,
    moneyFormat(currency, 2),
  )}
<p class="note">BG/NBD (r ${bgnbd.params.r.toFixed(3)}, α ${bgnbd.params.alpha.toFixed(3)}, a ${bgnbd.params.a.toFixed(3)}, b ${bgnbd.params.b.toFixed(3)}; log-likelihood ${bgnbd.logLikelihood.toFixed(1)}${bgnbd.converged ? '' : ', not converged'}) for expected orders${analysis.dropout.identified ? ' and P(alive)' : ' (without dropout, which the data cannot identify: an upper bound)'};
${gammaGamma ? `Gamma-Gamma (p ${gammaGamma.params.p.toFixed(2)}, q ${gammaGamma.params.q.toFixed(2)}, γ ${gammaGamma.params.gamma.toFixed(2)}) for spend per order` : 'each customer’s own average basket for spend per order (the Gamma-Gamma fit had q ≤ 1)'}; monthly discounting.</p></section>
</main></body></html>
`;
}
