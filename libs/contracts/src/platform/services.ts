/** The five services and the HTTP port each listens on by default (ARCHITECTURE §1). */
export const SERVICE_NAMES = ['ingestion', 'profiles', 'segmentation', 'offers', 'experiments'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const SERVICE_PORTS: Readonly<Record<ServiceName, number>> = {
  ingestion: 3001,
  profiles: 3002,
  segmentation: 3003,
  offers: 3004,
  experiments: 3005,
};

/** Paths every service serves for probes and docs. */
export const HEALTH_PATH = '/health';
export const READY_PATH = '/ready';
export const DOCS_PATH = '/docs';
