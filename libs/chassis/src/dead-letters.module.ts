import { Controller, Delete, Get, Header, HttpCode, Injectable, Module, Param, ParseIntPipe, Post, Query } from '@nestjs/common';
import { ApiExtension, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { JetStreamClient, type DeadLetter } from '@segmenta/messaging';
import { REQUIRED_SCOPE_EXTENSION, RequireScope } from './auth/require-scope';
import { CursorPageQuery } from './cursor-page-query';
import { NotFoundError, ValidationFailedError } from './domain-errors';
import { Metrics } from './metrics';
import { withTimeout } from './with-timeout';

class DeadLetterDto {
  @ApiProperty({ description: 'Sequence in the DLQ stream: replay or discard it by this' }) seq!: number;
  @ApiProperty({ example: 'PROFILES' }) stream!: string;
  @ApiProperty({ example: 'segmentation-profiles', description: 'The durable consumer that gave up' }) consumer!: string;
  @ApiProperty({ example: 'segmenta.profiles.updated' }) subject!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) envelopeId!: string | null;
  @ApiProperty({ description: 'The last error' }) error!: string;
  @ApiProperty({ description: 'JetStream deliveries when it was parked' }) deliveries!: number;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) firstFailureAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) lastFailureAt!: string | null;
  @ApiProperty({ format: 'date-time' }) deadLetteredAt!: string;
}

class DeadLetterCountDto {
  @ApiProperty() stream!: string;
  @ApiProperty() consumer!: string;
  @ApiProperty() count!: number;
}

class DeadLetterPageDto {
  @ApiProperty({ type: [DeadLetterDto] }) items!: DeadLetter[];
  @ApiProperty({ type: [DeadLetterCountDto], description: "Dead letters of this service's consumers, per stream and consumer" }) counts!: DeadLetterCountDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}

class ReplayResultDto {
  @ApiProperty() seq!: number;
  @ApiProperty() replayed!: boolean;
  @ApiPropertyOptional({ description: 'Why the handler failed again (the dead letter stays)' }) error?: string;
}

class ReplayAllResultDto {
  @ApiProperty() replayed!: number;
  @ApiProperty({ type: [ReplayResultDto] }) failed!: ReplayResultDto[];
}

const notFound = (seq: number) => new NotFoundError(`No dead letter ${seq} of this service`, [{ field: 'seq', problem: 'not found' }]);

class DeadLettersPageQuery extends CursorPageQuery({ defaultLimit: 50, maxLimit: 500 }) {}

/** The service's dead letters: those of the durable consumers this process runs. */
@Injectable()
export class DeadLettersService {
  constructor(private readonly client: JetStreamClient) {}

  async page(limit: number, cursor?: string): Promise<DeadLetterPageDto> {
    const after = cursor ? Number(cursor) : 0;
    // A cursor is a sequence number this list handed out; anything else reached JetStream as a negative or fractional start (500).
    if (cursor !== undefined && (!/^\d{1,15}$/.test(cursor) || !Number.isSafeInteger(after))) {
      throw ValidationFailedError.of([{ field: 'cursor', problem: 'cursor must be the nextCursor of a previous page' }]);
    }
    const items = await this.client.listDeadLetters({ after, limit: limit + 1 });
    const consumers = new Set(this.client.consumerNames());
    const counts = (await this.client.deadLetterCounts()).filter((c) => consumers.has(c.consumer));
    const page = items.slice(0, limit);
    return { items: page, counts, nextCursor: items.length > limit ? String(page[page.length - 1].seq) : null };
  }

  /** Replays one of this service's dead letters. */
  async replay(seq: number): Promise<ReplayResultDto> {
    await this.mustOwn(seq);
    return this.client.replayDeadLetter(seq);
  }

  async replayAll(): Promise<ReplayAllResultDto> {
    const failed: ReplayResultDto[] = [];
    let replayed = 0;
    let after = 0;
    for (;;) {
      const letters = await this.client.listDeadLetters({ after, limit: 500 });
      if (letters.length === 0) break;
      for (const letter of letters) {
        const result = await this.client.replayDeadLetter(letter.seq);
        if (result.replayed) replayed += 1;
        else failed.push(result);
      }
      after = letters[letters.length - 1].seq;
    }
    return { replayed, failed };
  }

  async discard(seq: number): Promise<void> {
    await this.mustOwn(seq);
    if (!(await this.client.discardDeadLetter(seq))) throw notFound(seq);
  }

  /** The DLQ holds a message of this service's consumers with that sequence. */
  private async mustOwn(seq: number): Promise<void> {
    const [letter] = await this.client.listDeadLetters({ after: seq - 1, limit: 1 });
    if (letter?.seq !== seq) throw notFound(seq);
  }

  /** Prometheus text: dead letters per stream and consumer of this service. */
  async metrics(): Promise<string> {
    const consumers = new Set(this.client.consumerNames());
    // While NATS is unreachable the client queues requests until it reconnects: a scrape must not
    // wait for that (nor fail), so the counts get a second and the gauge below says whether they came.
    const counts = await withTimeout(this.client.deadLetterCounts(), 1000, 'DLQ count').catch(() => undefined);
    const lines = [
      '# HELP segmenta_dead_letters_up Whether the DLQ counts could be read from JetStream (0 while NATS is unreachable).',
      '# TYPE segmenta_dead_letters_up gauge',
      `segmenta_dead_letters_up ${counts ? 1 : 0}`,
      '# HELP segmenta_dead_letters Messages in the DLQ stream, by stream and consumer.',
      '# TYPE segmenta_dead_letters gauge',
    ];
    for (const c of (counts ?? []).filter((c) => consumers.has(c.consumer))) lines.push(`segmenta_dead_letters{stream="${c.stream}",consumer="${c.consumer}"} ${c.count}`);
    return `${lines.join('\n')}\n`;
  }
}

@ApiTags('dead letters')
@RequireScope('admin')
@Controller('v1/admin/dead-letters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLettersService) {}

  @Get()
  @ApiOperation({ summary: "This service's dead letters, oldest first, with counts per stream and consumer" })
  @ApiOkResponse({ type: DeadLetterPageDto })
  list(@Query() query: DeadLettersPageQuery): Promise<DeadLetterPageDto> {
    return this.deadLetters.page(query.limit ?? 50, query.cursor);
  }

  @Post('replay')
  @HttpCode(200)
  @ApiOperation({ summary: "Replays every dead letter of this service's consumers through its handler; those that fail again stay" })
  @ApiOkResponse({ type: ReplayAllResultDto })
  replayAll(): Promise<ReplayAllResultDto> {
    return this.deadLetters.replayAll();
  }

  @Post(':seq/replay')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replays one dead letter through its consumer’s handler (idempotent: the inbox drops what was applied); removed from the DLQ on success' })
  @ApiOkResponse({ type: ReplayResultDto })
  replay(@Param('seq', ParseIntPipe) seq: number): Promise<ReplayResultDto> {
    return this.deadLetters.replay(seq);
  }

  @Delete(':seq')
  @HttpCode(204)
  @ApiOperation({ summary: 'Discards a dead letter for good' })
  discard(@Param('seq', ParseIntPipe) seq: number): Promise<void> {
    return this.deadLetters.discard(seq);
  }
}

@ApiTags('health')
@Controller()
export class MetricsController {
  constructor(
    private readonly deadLetters: DeadLettersService,
    private readonly counters: Metrics,
  ) {}

  @Get('metrics')
  @ApiExtension(REQUIRED_SCOPE_EXTENSION, 'none')
  @Header('content-type', 'text/plain; version=0.0.4')
  @ApiOperation({ summary: 'Prometheus metrics: dead letters per stream and consumer, rate limits, shedding, write-key look-ups (public, like /health)' })
  async metrics(): Promise<string> {
    const counters = this.counters.render();
    return `${await this.deadLetters.metrics()}${counters ? `${counters}\n` : ''}`;
  }
}

/** Admin endpoints for the service's dead letters and the metric that counts them (ADR 13). */
@Module({ controllers: [DeadLettersController, MetricsController], providers: [DeadLettersService] })
export class DeadLettersModule {}
