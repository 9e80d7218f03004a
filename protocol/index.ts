// The contract between appliance, control and packager. Pure code: no I/O, no sockets.
export * from './src/file-id.ts';
export * from './src/ip.ts';
export * from './src/ip-words.ts';
export * from './src/token.ts';
export * from './src/urls.ts';
export * from './src/http-error.ts';
export * from './src/settings.ts';
export * from './src/report.ts';
export * from './src/tls.ts';
export * from './src/route-hash.ts';
export * from './src/content-manifest.ts';
export * from './src/enroll.ts';
export * from './src/fill-manifest.ts';
export * from './src/fill-window.ts';
export * from './src/peer-token.ts';
export * from './src/image-update.ts';
export * from './src/seeded-random.ts';
