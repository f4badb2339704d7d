import { X509Certificate } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { clientCertificateNotActive, clientCertificateRequired } from '../errors.js'
import type { Principal } from '../principal.js'

/**
 * Mutual TLS behind a proxy (docs/organization.md, "Certificates"): the TLS proxy verifies the
 * client's certificate and forwards it in the header `server.clientCertificateHeader`; a key
 * whose organization or project has active certificates (principal.clientCertificates) must come
 * with one of them. Without that setting nothing is loaded or checked.
 */
export function checkClientCertificate(principal: Principal, header: string | undefined) {
  const required = principal.clientCertificates
  if (!required) return
  const fingerprint = header ? forwardedFingerprint(header) : undefined
  if (!fingerprint) throw clientCertificateRequired()
  if (!required.includes(fingerprint)) throw clientCertificateNotActive(fingerprint)
}

// A client sends the same certificate on every request: parse it once
const parsed = new LRUCache<string, string | false>({ max: 1024 })

/**
 * The SHA-256 fingerprint (lowercase hex) of a forwarded certificate: URL-encoded PEM (nginx
 * `$ssl_client_escaped_cert`), plain PEM, or the base64 DER alone (Traefik, some load
 * balancers). Undefined when the header holds no readable certificate.
 */
export function forwardedFingerprint(header: string): string | undefined {
  const known = parsed.get(header)
  if (known !== undefined) return known || undefined
  const fingerprint = parse(header)
  parsed.set(header, fingerprint ?? false)
  return fingerprint
}

function parse(header: string): string | undefined {
  let text = header.trim()
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text)
    } catch {
      return undefined
    }
  }
  try {
    const cert = text.includes('-----BEGIN')
      ? new X509Certificate(text)
      : new X509Certificate(Buffer.from(text.replace(/\s+/g, ''), 'base64'))
    return cert.fingerprint256.replaceAll(':', '').toLowerCase()
  } catch {
    return undefined
  }
}
