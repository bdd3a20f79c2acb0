// Placeholder until the extension build lands.
console.log('build-extension: no extension sources yet');
