export { SERVICE_CONFIG, ServiceConfigModule } from './service-config';
/** The former admin-only guard: ScopeGuard requires `admin` where no @RequireScope says otherwise. */
export { ScopeGuard as AdminGuard } from './auth/require-scope';
