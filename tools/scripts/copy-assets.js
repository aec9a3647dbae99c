// Copies what tsc does not emit (the apps' SQL migrations) next to the compiled code in dist/.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
for (const app of fs.readdirSync(path.join(root, 'apps'))) {
  const from = path.join(root, 'apps', app, 'src', 'db', 'migrations');
  if (!fs.existsSync(from)) continue;
  const to = path.join(root, 'dist', 'apps', app, 'src', 'db', 'migrations');
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
}
