import { BaseServiceConfig } from '@segmenta/chassis';

/** Segmentation's environment: the variables every service reads (ARCHITECTURE §7). */
export class SegmentationConfig extends BaseServiceConfig {}
