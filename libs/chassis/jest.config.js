module.exports = { ...require('../../jest.preset.js'), displayName: 'chassis', rootDir: __dirname };
