// Root config: runs every project in one Jest process (used by `npm test`). The projects share
// one globalSetup path from jest.preset.js, which Jest runs once for the whole run.
const path = require('node:path');
const fs = require('node:fs');

const projectDirs = ['apps', 'libs', 'tools']
  .flatMap((group) => fs.readdirSync(path.join(__dirname, group)).map((name) => path.join(group, name)))
  .filter((dir) => fs.existsSync(path.join(__dirname, dir, 'jest.config.js')));

module.exports = {
  // Global options (testTimeout is one) are read here, not from the projects.
  testTimeout: 30000,
  projects: projectDirs.map((dir) => `<rootDir>/${dir}/jest.config.js`),
};
