import { Global, Module } from '@nestjs/common';
import { TrafficControl } from './traffic-control';

/** Every service: rate limits, the lockout after failed authentications and load shedding (createService installs the middleware). */
@Global()
@Module({ providers: [TrafficControl], exports: [TrafficControl] })
export class TrafficControlModule {}
