import { Module } from '@nestjs/common';
import { ProfileStoreRepository } from './profile-store.repository';

/**
 * The profiles' write model, shared by activity, features and erasure: a module of its own so that
 * those feature modules import it without importing each other. The outbox they write their
 * PROFILES messages to is global (OutboxModule, ADR 12).
 */
@Module({ providers: [ProfileStoreRepository], exports: [ProfileStoreRepository] })
export class ProfileStoreModule {}
