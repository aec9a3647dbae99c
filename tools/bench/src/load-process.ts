import { fork } from 'node:child_process';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '@segmenta/infra';

/**
 * Runs a load script of this folder in its own process (so load generation does not share an
 * event loop with what it measures) and resolves with the JSON it prints on exit.
 */
export function runLoadProcess<T>(script: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, script), args, {
      execArgv: ['-r', join(WORKSPACE_ROOT, 'tools/scripts/register-paths.js')],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as T) : reject(new Error(`${script} exited with ${code}`))));
  });
}
