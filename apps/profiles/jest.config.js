module.exports = { ...require('../../jest.preset.js'), displayName: 'profiles', rootDir: __dirname };
