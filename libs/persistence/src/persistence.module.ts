import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { openDatabase, type Database } from './database';
import { runMigrations } from './migrations';

/** Injection token of the app's `Database`. */
export const DATABASE = Symbol('DATABASE');

export interface PersistenceModuleOptions {
  /** The app's PostgreSQL schema (its tables live there and nowhere else). */
  schema: string;
  /** Folder with drizzle-kit's generated SQL and journal. */
  migrationsFolder: string;
  /** PostgreSQL server URL; unset means embedded PGlite in `pgliteDataDir`. */
  url?: string;
  pgliteDataDir?: string;
  tables?: Record<string, unknown>;
  poolSize?: number;
  applicationName?: string;
}

@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/** Opens the app's database, applies its migrations before anything else starts, closes it on shutdown. */
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceModuleOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      providers: [
        {
          provide: DATABASE,
          useFactory: async (): Promise<Database<Record<string, unknown>>> => {
            const database = openDatabase({
              url: options.url,
              pgliteDataDir: options.pgliteDataDir,
              schema: options.tables,
              poolSize: options.poolSize,
              applicationName: options.applicationName,
            });
            try {
              await runMigrations(database, { migrationsFolder: options.migrationsFolder, schema: options.schema });
            } catch (error) {
              await database.close();
              throw error;
            }
            return database;
          },
        },
        DatabaseCloser,
      ],
      exports: [DATABASE],
    };
  }
}
