import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '@segmenta/infra';

interface ProjectGraphFile {
  graph: {
    nodes: Record<string, { type: string; data: { tags?: string[]; root: string } }>;
    dependencies: Record<string, Array<{ source: string; target: string; type: string }>>;
  };
}

// `nx graph` computes the project graph from the TypeScript imports, as CI and developers see it.
jest.setTimeout(120_000);
let graph: ProjectGraphFile['graph'];
const tagsOf = (name: string) => graph.nodes[name]?.data.tags ?? [];
const isApp = (name: string) => tagsOf(name).includes('type:app');

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'segmenta-graph-'));
  try {
    const file = join(dir, 'graph.json');
    execFileSync(join(WORKSPACE_ROOT, 'node_modules/.bin/nx'), ['graph', `--file=${file}`], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      stdio: 'pipe',
    });
    graph = (JSON.parse(readFileSync(file, 'utf8')) as ProjectGraphFile).graph;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('the Nx project graph', () => {
  it('has the five services and the platform libs', () => {
    const apps = Object.keys(graph.nodes).filter(isApp).sort();
    expect(apps).toEqual(['experiments', 'ingestion', 'offers', 'profiles', 'segmentation']);
    expect(Object.keys(graph.nodes)).toEqual(expect.arrayContaining(['contracts', 'messaging', 'persistence', 'telemetry', 'infra']));
  });

  it('has no edge from one service to another', () => {
    const appToApp = Object.values(graph.dependencies)
      .flat()
      .filter((edge) => isApp(edge.source) && isApp(edge.target))
      .map((edge) => `${edge.source} → ${edge.target}`);
    expect(appToApp).toEqual([]);
  });

  it('tags every project on both axes, type and scope', () => {
    for (const name of Object.keys(graph.nodes)) {
      const tags = tagsOf(name);
      expect({ name, type: tags.filter((t) => t.startsWith('type:')).length, scope: tags.filter((t) => t.startsWith('scope:')).length }).toEqual({ name, type: 1, scope: 1 });
    }
  });

  it('keeps contracts free of any other project', () => {
    expect(graph.dependencies.contracts ?? []).toEqual([]);
  });
});
