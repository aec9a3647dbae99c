/**
 * What an order earns (issue 19), as pure functions: the base rate of the order's currency, a bonus
 * for products in categories with a multiplier, the best multiplier of the customer's segments, and
 * the programme's cap per order. The service applies the cap per day, which needs the day's earnings.
 */

/** An earn rule as stored (`earn_rules.rule`). */
export type EarnRuleDefinition =
  /** Points per whole unit of `currency` of the order's revenue (e.g. 1 point per euro). */
  | { type: 'base'; currency: string; pointsPerUnit: number }
  /** The order's points × `multiplier` for a member of `segment` (the best of the customer's segments counts, they do not compound). */
  | { type: 'segment_multiplier'; segment: string; multiplier: number }
  /** Products of `category` earn `multiplier` × the base rate. */
  | { type: 'category_multiplier'; category: string; multiplier: number }
  /** `points` for each track event named `event` (a review, say); `oncePerCustomer`: the first only. */
  | { type: 'event_bonus'; event: string; points: number; oncePerCustomer: boolean }
  /** `points` on a customer's first order. */
  | { type: 'first_order_bonus'; points: number }
  /** `points` on the customer's birthday, once a year, from the date in their trait `trait` (identify). */
  | { type: 'birthday_bonus'; points: number; trait: string };

export const EARN_RULE_TYPES = ['base', 'segment_multiplier', 'category_multiplier', 'event_bonus', 'first_order_bonus', 'birthday_bonus'] as const;

/** A bonus an activity earns by a rule, and what makes it once: the ledger cause. */
export interface BonusEarning {
  ruleKey: string;
  points: number;
  cause: string;
}

/**
 * The bonuses of one activity: each event_bonus rule naming this track event (once per event, or
 * once per customer), and the first_order_bonus on an order (once per customer). A bonus the ledger
 * holds already is a replay; the caller skips it by its cause.
 */
export function bonusesFor(activity: { profileId: string; eventId: string; type: string; name?: string | null }, rules: ReadonlyArray<{ key: string; rule: EarnRuleDefinition }>): BonusEarning[] {
  if (activity.type !== 'track' || !activity.name) return [];
  const bonuses: BonusEarning[] = [];
  for (const { key, rule } of rules) {
    if (rule.type === 'event_bonus' && rule.event === activity.name)
      bonuses.push({ ruleKey: key, points: rule.points, cause: rule.oncePerCustomer ? `bonus:${key}:${activity.profileId}` : `bonus:${key}:${activity.eventId}` });
    if (rule.type === 'first_order_bonus' && activity.name === 'Order Completed') bonuses.push({ ruleKey: key, points: rule.points, cause: `first-order:${activity.profileId}` });
  }
  return bonuses;
}

/** The month and day (MM-DD) of a birthday trait: an ISO date (1990-05-17, with or without a time) or MM-DD; null when it is neither. */
export function birthdayOf(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const match = /^(?:\d{4}-)?(\d{2})-(\d{2})(?:$|T)/.exec(value.trim());
  if (!match) return null;
  const [month, day] = [Number(match[1]), Number(match[2])];
  const days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return month >= 1 && month <= 12 && day >= 1 && day <= days[month - 1] ? `${match[1]}-${match[2]}` : null;
}

/** An `Order Completed` as earning reads it; amounts in whole units of `currency`. */
export interface OrderForEarning {
  /** null: the event names no order (it earns once per event instead). */
  orderId: string | null;
  revenue: number;
  currency: string;
  products: Array<{ category: string | null; amount: number }>;
}

export interface OrderEarning {
  points: number;
  /** How: base points, category bonus, the segment whose multiplier applied, the cap. */
  details: {
    currency: string;
    revenue: number;
    pointsPerUnit: number | null;
    basePoints: number;
    categoryBonus: number;
    segment: string | null;
    segmentMultiplier: number;
    cappedAt: number | null;
  };
}

const finite = (value: unknown): number | null => {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
};

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim() : typeof value === 'number' && Number.isFinite(value) ? String(value) : null);

/**
 * The order in an `Order Completed`'s properties (Segment's e-commerce spec): `order_id`, the revenue
 * (`revenue`, else `total`, else `subtotal`, else the products' price × quantity), `currency`
 * (USD when absent, as Segment assumes) and the products' categories. null when no amount can be
 * read, or it is negative.
 */
export function orderFromProperties(properties: Record<string, unknown>): OrderForEarning | null {
  const products = (Array.isArray(properties.products) ? properties.products : []).flatMap((p: unknown) => {
    if (typeof p !== 'object' || p === null) return [];
    const product = p as Record<string, unknown>;
    const price = finite(product.price);
    if (price === null || price < 0) return [];
    const quantity = finite(product.quantity) ?? 1;
    return quantity > 0 ? [{ category: text(product.category)?.toLowerCase() ?? null, amount: price * quantity }] : [];
  });
  const revenue = finite(properties.revenue) ?? finite(properties.total) ?? finite(properties.subtotal) ?? (products.length > 0 ? products.reduce((sum, p) => sum + p.amount, 0) : null);
  if (revenue === null || revenue < 0) return null;
  const currency = (text(properties.currency) ?? 'USD').toUpperCase();
  return { orderId: text(properties.order_id) ?? text(properties.orderId), revenue, currency, products };
}

/**
 * Points for an order: revenue × the base rate of its currency (none: 0), plus for products in a
 * category with a multiplier m, their share × rate × (m − 1) (the products' amounts are scaled down
 * when together they exceed the revenue, as after a discount), all × the best multiplier among the
 * customer's segments, rounded down, then capped per order.
 */
export function pointsForOrder(order: OrderForEarning, rules: EarnRuleDefinition[], isMember: (segment: string) => boolean, capPerOrder: number | null): OrderEarning {
  const base = rules.find((r): r is Extract<EarnRuleDefinition, { type: 'base' }> => r.type === 'base' && r.currency === order.currency);
  const rate = base?.pointsPerUnit ?? 0;
  const basePoints = order.revenue * rate;
  const categoryMultiplier = new Map<string, number>();
  for (const rule of rules)
    if (rule.type === 'category_multiplier') categoryMultiplier.set(rule.category.toLowerCase(), Math.max(categoryMultiplier.get(rule.category.toLowerCase()) ?? 0, rule.multiplier));
  const productTotal = order.products.reduce((sum, p) => sum + p.amount, 0);
  const scale = productTotal > order.revenue ? order.revenue / productTotal : 1;
  let categoryBonus = 0;
  for (const product of order.products) {
    const m = product.category === null ? undefined : categoryMultiplier.get(product.category);
    if (m !== undefined) categoryBonus += product.amount * scale * rate * (m - 1);
  }
  let segment: string | null = null;
  let segmentMultiplier = 1;
  for (const rule of rules)
    if (rule.type === 'segment_multiplier' && rule.multiplier > segmentMultiplier && isMember(rule.segment)) {
      segment = rule.segment;
      segmentMultiplier = rule.multiplier;
    }
  // A hair of tolerance: 19.99 × 100 is 1998.9999999999998 in binary floating point.
  const uncapped = Math.max(0, Math.floor((basePoints + categoryBonus) * segmentMultiplier + 1e-9));
  const points = capPerOrder === null ? uncapped : Math.min(uncapped, capPerOrder);
  return {
    points,
    details: {
      currency: order.currency,
      revenue: order.revenue,
      pointsPerUnit: base ? rate : null,
      basePoints: round2(basePoints),
      categoryBonus: round2(categoryBonus),
      segment,
      segmentMultiplier,
      cappedAt: points < uncapped ? capPerOrder : null,
    },
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The points a cap per day still allows, given what the customer earned today (null: no cap). */
export function withinDailyCap(points: number, earnedToday: number, capPerDay: number | null): number {
  return capPerDay === null ? points : Math.max(0, Math.min(points, capPerDay - earnedToday));
}
