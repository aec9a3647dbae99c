import { BaseServiceConfig } from '@segmenta/chassis';

/** Profiles's environment: the variables every service reads (ARCHITECTURE §7). */
export class ProfilesConfig extends BaseServiceConfig {}
