import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

export interface ServingCerts {
  caPem: string;
  certPem: string;
  keyPem: string;
}

// ECDSA P-256: key generation and signing take milliseconds, so every sandbox gets a fresh CA.
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

// @types/node's webcrypto and the DOM Crypto type @peculiar/x509 declares are structurally equal.
type X509Crypto = NonNullable<Parameters<typeof X509.X509CertificateGenerator.create>[1]>;
const crypto = webcrypto as unknown as X509Crypto;
type KeyPair = webcrypto.CryptoKeyPair;

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * @peculiar/x509 pulls in tsyringe, which refuses to load without the reflect-metadata polyfill (not a
 * dependency here). It only stores and reads decorator metadata, so a WeakMap-backed stand-in is enough;
 * it must be installed before the library is evaluated, hence the dynamic import.
 */
async function loadX509(): Promise<typeof X509> {
  const r = Reflect as unknown as Record<string, unknown>;
  if (typeof r.getMetadata !== 'function') {
    const store = new WeakMap<object, Map<unknown, unknown>>();
    const own = (target: object, create: boolean) => {
      let m = store.get(target);
      if (!m && create) store.set(target, (m = new Map()));
      return m;
    };
    r.defineMetadata = (key: unknown, value: unknown, target: object) => void own(target, true)!.set(key, value);
    r.getOwnMetadata = (key: unknown, target: object) => own(target, false)?.get(key);
    r.getMetadata = (key: unknown, target: object): unknown => {
      for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
        const m = own(t, false);
        if (m?.has(key)) return m.get(key);
      }
      return undefined;
    };
  }
  return import('@peculiar/x509');
}

/** A throwaway CA and a serving certificate for 127.0.0.1 / localhost signed by it. */
export async function generateServingCerts(now = new Date()): Promise<ServingCerts> {
  const x509 = await loadX509();
  x509.cryptoProvider.set(crypto);
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000); // tolerate small clock skew
  const notAfter = new Date(now.getTime() + 365 * 24 * 60 * 60 * 1000);
  const caKeys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=sandbox-ca',
      notBefore,
      notAfter,
      keys: caKeys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const leafKeys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const leaf = await x509.X509CertificateGenerator.create(
    {
      serialNumber: '02',
      subject: 'CN=kube-apiserver',
      issuer: ca.subject,
      notBefore,
      notAfter,
      signingKey: caKeys.privateKey,
      publicKey: leafKeys.publicKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(ca, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', leafKeys.privateKey);
  return { caPem: ca.toString('pem') + '\n', certPem: leaf.toString('pem') + '\n', keyPem: toPem(pkcs8, 'PRIVATE KEY') };
}
