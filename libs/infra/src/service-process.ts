import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort, waitFor } from './process-utils';

/** The repository root (the folder with nx.json), from source or from dist/. */
function findWorkspaceRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
  }
  throw new Error(`no nx.json above ${start}`);
}

export const WORKSPACE_ROOT = findWorkspaceRoot(__dirname);

export interface ServiceProcess {
  readonly name: string;
  /** http://127.0.0.1:<port> once the service listens. */
  readonly url: string;
  readonly pid: number;
  /** Every line the service printed (JSON logs), for assertions and diagnostics. */
  readonly output: string[];
  /** SIGTERM and wait: the graceful path (drain consumers, close the pool). Resolves the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL: a crash, nothing drained. */
  kill(): Promise<void>;
}

export interface StartServiceOptions {
  /** App folder name under apps/. */
  app: string;
  env: Record<string, string | undefined>;
  /** `source` runs the TypeScript through tools/scripts/dev-register.js; `dist` runs `npm run build` output. */
  mode?: 'source' | 'dist';
  /** How long to wait for /ready. */
  readyTimeoutMs?: number;
  /** Called with every output line (the demo prints warnings). */
  onLine?: (line: string) => void;
}

/**
 * Starts one service as a child process on a free port (unless env.PORT is given) and waits
 * until its /ready answers 200.
 */
export async function startServiceProcess(options: StartServiceOptions): Promise<ServiceProcess> {
  const mode = options.mode ?? 'source';
  const args =
    mode === 'source'
      ? ['-r', join(WORKSPACE_ROOT, 'tools/scripts/dev-register.js'), join(WORKSPACE_ROOT, 'apps', options.app, 'src/main.ts')]
      : ['-r', join(WORKSPACE_ROOT, 'tools/scripts/register-paths.js'), join(WORKSPACE_ROOT, 'dist/apps', options.app, 'src/main.js')];
  if (mode === 'dist' && !existsSync(args[2])) throw new Error(`${args[2]} is missing: run \`npm run build\` first`);
  const port = options.env.PORT ?? String(await freePort());
  const url = `http://127.0.0.1:${port}`;
  // SEGMENTA_CPU_PROF=<dir>: write a V8 CPU profile of every service started here (benchmarks).
  const profile = process.env.SEGMENTA_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SEGMENTA_CPU_PROF}`, `--cpu-prof-name=${options.app}-${Date.now()}.cpuprofile`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, ...args], {
    cwd: WORKSPACE_ROOT,
    // The service stops when this process is gone, however it ended (see runService).
    env: { ...process.env, SEGMENTA_EXIT_WITH_PARENT: String(process.pid), ...options.env, PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolveExit(code);
    }),
  );
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      output.push(line);
      options.onLine?.(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  const service: ServiceProcess = {
    name: options.app,
    url,
    pid: child.pid ?? -1,
    output,
    stop: async (timeoutMs = 15000) => {
      if (exit) return exit.code;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    kill: async () => {
      if (exit) return;
      child.kill('SIGKILL');
      await exited;
    },
  };

  try {
    await waitFor(
      async () => {
        if (exit) throw new Error(`${options.app} exited (code ${exit.code}, signal ${exit.signal}) before it was ready:\n${output.slice(-15).join('\n')}`);
        const response = await fetch(`${url}/ready`).catch(() => undefined);
        return response?.status === 200;
      },
      { timeoutMs: options.readyTimeoutMs ?? 45000, intervalMs: 100, what: `${options.app} to be ready` },
    );
  } catch (error) {
    await service.kill();
    // What the service said last is what tells a stuck start (a migration, a lock) from a slow one.
    if (!exit || exit.signal === 'SIGKILL') {
      const tail = output.slice(-15);
      throw new Error(`${(error as Error).message}; its last ${tail.length ? `${tail.length} log lines:\n${tail.join('\n')}` : 'log lines: (none)'}`);
    }
    throw error;
  }
  return service;
}
