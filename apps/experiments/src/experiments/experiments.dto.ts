import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import { Type } from 'class-transformer';
import { CursorPageQuery } from '@segmenta/chassis';
import { EXPERIMENT_STATUSES, type ExperimentStatus } from '@segmenta/contracts';

export const EXPERIMENT_KEY = /^[a-z0-9][a-z0-9-]*$/;

export const EXPERIMENT_DEFINITION_EXAMPLE = {
  hypothesis: 'Camera fans buy more often with 10 % off than with free shipping',
  targeting: { segments: ['camera-intent'], trafficShare: 0.8, placement: 'checkout' },
  variants: [
    { key: 'control', name: 'Free shipping', weight: 0.5, offers: ['free-shipping'] },
    { key: 'ten-off', name: '10 % off cameras', weight: 0.5, offers: ['cameras-10'] },
  ],
  metrics: [
    { key: 'orders', type: 'conversion', event: 'Order Completed', days: 14 },
    { key: 'revenue', type: 'revenue', days: 14 },
    { key: 'refunds', type: 'conversion', event: 'Order Refunded', days: 30, guardrail: true, goodDirection: 'down' },
  ],
};

export const EXPERIMENT_EXAMPLE = {
  key: 'checkout-camera-offer',
  name: 'Checkout: 10 % off vs free shipping',
  status: 'running',
  revision: 2,
  seed: 'checkout-camera-offer',
  definition: { ...EXPERIMENT_DEFINITION_EXAMPLE, seed: 'checkout-camera-offer' },
  startedAt: '2026-12-03T10:00:00.000Z',
  endedAt: null,
  createdAt: '2026-12-02T16:00:00.000Z',
  updatedAt: '2026-12-03T10:00:00.000Z',
};

const DEFINITION_DOC =
  'hypothesis; targeting {segments (any of), trafficShare 0–1, placement (where variant offers are served), namespace {id, start, end}}; variants (2–10, the first is the control) [{key, name, weight (they add up to 1), offers, journeyBranch {journey, step, branch}, payload}]; metrics [{key, type: conversion (event, where) | revenue | retention | redemption, days, guardrail, goodDirection}]; seed (default: the key)';

export class CreateExperimentDto {
  @ApiProperty({ example: 'checkout-camera-offer' })
  @Length(1, 100)
  @Matches(EXPERIMENT_KEY, { message: 'must be lower-case letters, digits and hyphens, starting with a letter or digit' })
  key!: string;

  @ApiProperty({ example: 'Checkout: 10 % off vs free shipping' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ description: DEFINITION_DOC, example: EXPERIMENT_DEFINITION_EXAMPLE })
  @IsObject({ message: 'must be an object: hypothesis, targeting, variants, metrics, seed' })
  definition!: Record<string, unknown>;
}

export class UpdateExperimentDto {
  @ApiPropertyOptional({ example: 'Checkout: 10 % off vs free shipping' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({
    description: `The whole definition again. A running experiment may change its hypothesis, metrics and traffic share only. ${DEFINITION_DOC}`,
    example: EXPERIMENT_DEFINITION_EXAMPLE,
  })
  @IsOptional()
  @IsObject({ message: 'must be an object: hypothesis, targeting, variants, metrics, seed' })
  definition?: Record<string, unknown>;
}

export class ExperimentStatusDto {
  @ApiProperty({ enum: EXPERIMENT_STATUSES })
  @IsIn(EXPERIMENT_STATUSES)
  status!: ExperimentStatus;
}

export class ListExperimentsQueryDto extends CursorPageQuery({ defaultLimit: 50, maxLimit: 500 }) {
  @ApiPropertyOptional({ enum: EXPERIMENT_STATUSES })
  @IsOptional()
  @IsIn(EXPERIMENT_STATUSES)
  status?: ExperimentStatus;
}

export class AssignmentRequestDto {
  @ApiProperty({ description: 'The customer (a profile id)', example: '6f1c2a8e-3b5d-4c7e-9f10-2a3b4c5d6e7f' })
  @IsUUID()
  profileId!: string;

  @ApiPropertyOptional({ description: 'Record the customer as exposed (the first time only); false only asks. Default true.', example: true })
  @IsOptional()
  @IsBoolean()
  expose?: boolean;
}

export const ASSIGNMENT_EXAMPLE = {
  experiment: 'checkout-camera-offer',
  inExperiment: true,
  reason: null,
  variant: { key: 'ten-off', name: '10 % off cameras', offers: ['cameras-10'], payload: null },
  exposedAt: '2026-12-03T10:05:00.000Z',
};

export class ResultsQueryDto {
  @ApiPropertyOptional({ enum: ['segment'], description: 'segment: a row per segment the exposed customers were in, p-values corrected over the segments (Holm)' })
  @IsOptional()
  @IsIn(['segment'])
  by?: 'segment';
}

/** Query parameters of the calculator (a GET, so read keys may use it): numbers come as text and are converted first. */
export class SampleSizeQueryDto {
  @ApiProperty({ enum: ['conversion', 'mean'], description: 'conversion: a rate (give baseline); mean: a per-customer mean such as revenue (give standardDeviation)' })
  @IsIn(['conversion', 'mean'])
  metric!: 'conversion' | 'mean';

  @ApiPropertyOptional({ description: 'The control’s conversion rate (0–1), or its mean for a relative lift of a mean', example: 0.2 })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  baseline?: number;

  @ApiPropertyOptional({ description: 'Per-customer standard deviation of a mean metric', example: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  standardDeviation?: number;

  @ApiPropertyOptional({ description: 'The smallest lift worth detecting, absolute (0.05 = five points of a rate)', example: 0.05 })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  absoluteLift?: number;

  @ApiPropertyOptional({ description: 'The smallest lift worth detecting, relative to the baseline (0.25 = +25 %)' })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  relativeLift?: number;

  @ApiPropertyOptional({ description: 'Variants including the control; α is split over the comparisons with the control (Bonferroni)', default: 2 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(10)
  variants?: number;

  @ApiPropertyOptional({ description: 'Two-sided significance level', default: 0.05 })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0.0001)
  @Max(0.5)
  alpha?: number;

  @ApiPropertyOptional({ description: 'Chance to detect the lift if it is real', default: 0.8 })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0.5)
  @Max(0.9999)
  power?: number;

  @ApiPropertyOptional({ description: 'Eligible customers a day: gives the duration in days', example: 2000 })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(1)
  dailyTraffic?: number;

  @ApiPropertyOptional({ description: 'Share of the eligible customers in the experiment (0–1)', default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0.001)
  @Max(1)
  trafficShare?: number;
}
