// web-push's encryption module on its own (the library has no exports map, so its files are
// importable): the `encrypt` its index exports and documents, without the request, proxy and VAPID
// code the index loads beside it. See shared/adapters/web-push-request.ts.
declare module 'web-push/src/encryption-helper.js' {
  import type { encrypt } from 'web-push';

  const encryptionHelper: { readonly encrypt: typeof encrypt };
  export default encryptionHelper;
}
