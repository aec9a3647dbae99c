module.exports = { ...require('../../jest.preset.js'), displayName: 'segmentation', rootDir: __dirname };
