import { timingSafeEqual } from 'node:crypto';
import {
  ForbiddenException,
  Global,
  Inject,
  Injectable,
  Module,
  UnauthorizedException,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
} from '@nestjs/common';
import type { BaseServiceConfig } from './config';

/** Injection token of the service's validated configuration (its own class extends BaseServiceConfig). */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

@Global()
@Module({})
export class ServiceConfigModule {
  static forConfig(config: BaseServiceConfig): DynamicModule {
    return { module: ServiceConfigModule, providers: [{ provide: SERVICE_CONFIG, useValue: config }], exports: [SERVICE_CONFIG] };
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Admin scope: `Authorization: Bearer <ADMIN_API_KEY>`. With no ADMIN_API_KEY configured the admin
 * API is closed rather than open.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: BaseServiceConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.ADMIN_API_KEY;
    if (!expected) {
      throw new ForbiddenException({ statusCode: 403, error: 'Forbidden', message: 'The admin API is disabled: set ADMIN_API_KEY to enable it', details: [] });
    }
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !sameSecret(match[1].trim(), expected)) {
      throw new UnauthorizedException({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'Admin API key missing or wrong: send Authorization: Bearer <ADMIN_API_KEY>',
        details: [{ field: 'authorization', problem: match ? 'unknown key' : 'missing Bearer token' }],
      });
    }
    return true;
  }
}
