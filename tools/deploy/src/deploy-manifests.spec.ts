import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { loadAll } from 'js-yaml';
import { HEALTH_PATH, READY_PATH, SERVICE_NAMES, SERVICE_PORTS } from '@segmenta/contracts';
import { WORKSPACE_ROOT } from '@segmenta/infra';

/** A Kubernetes object as far as these checks read it. */
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface Probe {
  httpGet?: { path: string; port: number | string };
}
interface Container {
  name: string;
  image?: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: { cpu?: string; memory?: string } };
  envFrom?: Array<{ configMapRef?: { name: string } }>;
}
interface ComposeService {
  image?: string;
  build?: { context: string; args?: Record<string, string> };
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
}

const root = (...parts: string[]) => join(WORKSPACE_ROOT, ...parts);
const parse = (file: string) => loadAll(readFileSync(file, 'utf8')).filter((doc) => doc !== null && doc !== undefined);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

const k8sBase = yamlFiles(root('k8s/base'))
  .filter((file) => !file.endsWith('kustomization.yaml'))
  .flatMap((file) => parse(file) as K8sObject[]);
const find = (kind: string, name: string) => k8sBase.find((o) => o.kind === kind && o.metadata.name === name);
const compose = parse(root('docker-compose.yml'))[0] as { services: Record<string, ComposeService> };

describe('every YAML file', () => {
  it.each([...yamlFiles(root('k8s')), root('docker-compose.yml'), ...yamlFiles(root('deploy'))].map((f) => [relative(WORKSPACE_ROOT, f), f]))('%s parses', (_name, file) => {
    expect(parse(file).length).toBeGreaterThan(0);
  });
});

describe.each(SERVICE_NAMES.map((name) => [name, SERVICE_PORTS[name]] as const))('%s (port %i)', (name, port) => {
  it('is a docker compose service built from the Dockerfile with APP, on its port, health-checked on /ready', () => {
    const service = compose.services[name];
    expect(service.image).toMatch(new RegExp(`^segmenta/${name}:`));
    expect(service.build?.args?.APP).toBe(name);
    expect(service.ports).toContain(`${port}:${port}`);
    expect(service.environment?.PORT).toBe(String(port));
    expect(service.environment?.NATS_URL).toBe('nats://nats:4222');
    expect(service.environment?.DATABASE_URL).toMatch(/^postgres:\/\/.+@postgres:5432\//);
    expect(service.healthcheck?.test.join(' ')).toContain(`:${port}${READY_PATH}`);
  });

  it('has a Deployment with an image, its port, readiness on /ready, liveness and start-up on /health of the HEALTH_PORT listener, and resource requests', () => {
    const deployment = find('Deployment', name);
    expect(deployment).toBeDefined();
    const containers = (deployment?.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;
    const container = containers[0];
    expect(container.image).toMatch(new RegExp(`^segmenta/${name}:`));
    // Under overload the service port leaves a new connection's probe unread for seconds; the health listener answers in one turn (issue 15).
    const healthPort = Number(find('ConfigMap', `${name}-config`)?.data?.HEALTH_PORT);
    expect(healthPort).toBeGreaterThan(0);
    expect(healthPort).not.toBe(port);
    expect(container.ports).toEqual([
      { name: 'http', containerPort: port },
      { name: 'health', containerPort: healthPort },
    ]);
    expect(container.readinessProbe?.httpGet).toEqual({ path: READY_PATH, port });
    expect(container.livenessProbe?.httpGet).toEqual({ path: HEALTH_PATH, port: 'health' });
    expect(container.startupProbe?.httpGet).toEqual({ path: HEALTH_PATH, port: 'health' });
    expect(container.resources?.requests?.cpu).toBeTruthy();
    expect(container.resources?.requests?.memory).toBeTruthy();
    expect(container.envFrom?.[0].configMapRef?.name).toBe(`${name}-config`);
  });

  it('has a ConfigMap whose PORT is its port, a Service on it and an HPA scaling the Deployment', () => {
    expect(find('ConfigMap', `${name}-config`)?.data?.PORT).toBe(String(port));
    const service = find('Service', name)?.spec as { ports: Array<{ port: number; targetPort: number }> } | undefined;
    expect(service?.ports[0]).toMatchObject({ port, targetPort: port });
    const hpa = find('HorizontalPodAutoscaler', name)?.spec as { scaleTargetRef: { kind: string; name: string }; minReplicas: number } | undefined;
    expect(hpa?.scaleTargetRef).toMatchObject({ kind: 'Deployment', name });
    expect(hpa?.minReplicas).toBeGreaterThanOrEqual(1);
  });
});

describe('shared infrastructure', () => {
  it('runs NATS as a 3-node StatefulSet with JetStream and cluster routes to every node', () => {
    const statefulSet = find('StatefulSet', 'nats')?.spec as { replicas: number } | undefined;
    expect(statefulSet?.replicas).toBe(3);
    const config = find('ConfigMap', 'nats-config')?.data?.['nats.conf'] ?? '';
    expect(config).toMatch(/jetstream\s*{/);
    for (const node of [0, 1, 2]) expect(config).toContain(`nats-${node}.nats-headless:6222`);
  });

  it('runs PostgreSQL as a CloudNativePG Cluster whose app secret the services read', () => {
    const cluster = k8sBase.find((o) => o.kind === 'Cluster' && o.apiVersion.startsWith('postgresql.cnpg.io/'));
    expect(cluster?.metadata.name).toBe('segmenta-pg');
    const secretRefs = SERVICE_NAMES.map((name) => JSON.stringify(find('Deployment', name)));
    for (const ref of secretRefs) expect(ref).toContain('"name":"segmenta-pg-app"');
  });

  it('runs an OpenTelemetry collector that the services export to', () => {
    expect(find('Deployment', 'otel-collector')).toBeDefined();
    expect(find('Service', 'otel-collector')).toBeDefined();
    for (const name of SERVICE_NAMES) expect(find('ConfigMap', `${name}-config`)?.data?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
    expect(compose.services['otel-collector']).toBeDefined();
    expect(compose.services.jaeger).toBeDefined();
  });

  it('builds any service from one Dockerfile selected by ARG APP', () => {
    const dockerfile = readFileSync(root('Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ARG APP$/m);
    expect(dockerfile).toContain('dist/apps/${APP}/src/main.js');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
  });
});

describe('kustomizations', () => {
  const kustomizations = yamlFiles(root('k8s')).filter((file) => file.endsWith('kustomization.yaml'));

  it.each(kustomizations.map((f) => [relative(WORKSPACE_ROOT, f), f]))('%s refers only to files and folders that exist', (_name, file) => {
    const kustomization = parse(file)[0] as { resources?: string[]; patches?: Array<{ path?: string }> };
    const references = [...(kustomization.resources ?? []), ...(kustomization.patches ?? []).flatMap((p) => (p.path ? [p.path] : []))];
    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) expect({ reference, exists: existsSync(join(dirname(file), reference)) }).toEqual({ reference, exists: true });
  });

  it('lists every base manifest in the base kustomization', () => {
    const base = parse(root('k8s/base/kustomization.yaml'))[0] as { resources: string[] };
    const files = yamlFiles(root('k8s/base'))
      .filter((file) => !file.endsWith('kustomization.yaml'))
      .map((file) => relative(root('k8s/base'), file));
    expect([...base.resources].sort()).toEqual(files.sort());
  });

  it('points the local overlay at the base and at local images of all five services', () => {
    const overlay = parse(root('k8s/overlays/local/kustomization.yaml'))[0] as { resources: string[]; images: Array<{ name: string; newTag: string }> };
    expect(overlay.resources).toContain('../../base');
    expect(overlay.images.map((i) => i.name).sort()).toEqual(SERVICE_NAMES.map((n) => `segmenta/${n}`).sort());
  });
});
