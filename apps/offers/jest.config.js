module.exports = { ...require('../../jest.preset.js'), displayName: 'offers', rootDir: __dirname };
