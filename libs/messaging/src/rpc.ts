import { ClientNats, ServerNats, type NatsOptions } from '@nestjs/microservices';

type NatsTransportOptions = NonNullable<NatsOptions['options']>;

/** Prefixes a pattern once (idempotent: the server normalises both at subscribe and at dispatch). */
function prefixed(prefix: string, route: string): string {
  return route.startsWith(`${prefix}.`) ? route : `${prefix}.${route}`;
}

/**
 * @nestjs/microservices NATS server whose subjects carry NATS_PREFIX, so request/reply of
 * parallel test runs or deployments on one server never cross. `@MessagePattern('profiles.ping')`
 * listens on `<prefix>.profiles.ping` in the service's queue group.
 */
export class PrefixedNatsServer extends ServerNats {
  constructor(
    private readonly prefix: string,
    options: NatsTransportOptions,
  ) {
    super(options);
  }

  override normalizePattern(pattern: Parameters<ServerNats['normalizePattern']>[0]): string {
    return prefixed(this.prefix, super.normalizePattern(pattern));
  }
}

/** The client side of PrefixedNatsServer: `send('profiles.ping', {})`. */
export class PrefixedNatsClient extends ClientNats {
  constructor(
    private readonly prefix: string,
    options: NatsTransportOptions,
  ) {
    super(options);
  }

  protected override normalizePattern(pattern: Parameters<ClientNats['normalizePattern']>[0]): string {
    return prefixed(this.prefix, super.normalizePattern(pattern));
  }
}
