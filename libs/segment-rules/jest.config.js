module.exports = { ...require('../../jest.preset.js'), displayName: 'segment-rules', rootDir: __dirname };
