import { BaseServiceConfig } from '@segmenta/chassis';

/** Ingestion's environment: the variables every service reads (ARCHITECTURE §7). */
export class IngestionConfig extends BaseServiceConfig {}
