/**
 * Realistic Segment track calls (~600 bytes each) for the benchmarks. A batch body is built once as
 * a template and only its id prefix changes per request, so the load process stays cheap.
 */
const CATEGORIES = ['cameras', 'lenses', 'tripods', 'lighting', 'bags', 'drones', 'audio', 'memory'];
const EVENTS = ['Product Viewed', 'Product Viewed', 'Product Viewed', 'Product Added', 'Order Completed'];

export function sampleTrackCall(index: number, idPrefix: string): Record<string, unknown> {
  const category = CATEGORIES[index % CATEGORIES.length];
  const event = EVENTS[index % EVENTS.length];
  const price = 19 + ((index * 37) % 1800);
  const customer = (index * 7919) % 50000;
  return {
    type: 'track',
    messageId: `${idPrefix}-${index}`,
    userId: `customer-${customer}`,
    // One browser per customer: the identity graph links them once, as on a real site.
    anonymousId: `anon-${customer}`,
    event,
    timestamp: '2026-11-23T10:15:30.000Z',
    properties: {
      product_id: `sku-${category}-${index % 977}`,
      name: `Segmenta ${category} model ${index % 977}`,
      category,
      brand: 'Segmenta',
      price,
      quantity: 1 + (index % 3),
      currency: 'EUR',
      ...(event === 'Order Completed' ? { order_id: `order-${index}`, revenue: price * (1 + (index % 3)) } : {}),
    },
    context: {
      ip: `203.0.113.${index % 250}`,
      locale: 'de-DE',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
      page: { path: `/${category}/${index % 977}`, url: `https://shop.example/${category}/${index % 977}`, referrer: 'https://search.example/' },
      library: { name: 'segmenta-bench', version: '0.1.0' },
    },
  };
}

/** A batch body whose message ids start with the placeholder `@@`, to be replaced per request. */
export function batchTemplate(size: number): { parts: string[]; bytesPerEvent: number } {
  const batch = Array.from({ length: size }, (_, i) => sampleTrackCall(i, '@@'));
  const body = JSON.stringify({ batch, sentAt: '2026-11-23T10:15:31.000Z' });
  return { parts: body.split('@@'), bytesPerEvent: Math.round(body.length / size) };
}
