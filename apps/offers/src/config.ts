import { BaseServiceConfig } from '@segmenta/chassis';

/** Offers's environment: the variables every service reads (ARCHITECTURE §7). */
export class OffersConfig extends BaseServiceConfig {}
