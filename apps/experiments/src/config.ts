import { BaseServiceConfig } from '@segmenta/chassis';

/** Experiments's environment: the variables every service reads (ARCHITECTURE §7). */
export class ExperimentsConfig extends BaseServiceConfig {}
