module.exports = { ...require('../../jest.preset.js'), displayName: 'stats', rootDir: __dirname };
