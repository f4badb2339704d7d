import { X509Certificate } from 'node:crypto'
import { invalidCertificate } from '../../errors.js'

export type ParsedCertificate = {
  /** the one CERTIFICATE block, base64 wrapped at 64 columns */
  pem: string
  /** SHA-256 of the DER, lowercase hex */
  fingerprint: string
  valid_at: number
  expires_at: number
}

const BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g

/**
 * One X.509 certificate from PEM text. Only the CERTIFICATE block is kept, so a private key
 * pasted along with it is never stored. Line breaks may be missing or written as the two
 * characters `\n` (as a shell's quoting leaves them in the spec's curl example).
 */
export function parseCertificatePem(text: string): ParsedCertificate {
  const blocks = [...text.replaceAll('\\n', '\n').matchAll(BLOCK)]
  if (blocks.length === 0) throw invalidCertificate('no -----BEGIN CERTIFICATE----- block found')
  if (blocks.length > 1) {
    throw invalidCertificate(`found ${blocks.length} certificates where one was expected`)
  }
  const body = blocks[0][1].replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw invalidCertificate('the PEM body is not base64')
  const lines = body.match(/.{1,64}/g)!
  const pem = `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`
  let cert: X509Certificate
  try {
    cert = new X509Certificate(pem)
  } catch {
    throw invalidCertificate('the PEM block is not a valid X.509 certificate')
  }
  return {
    pem,
    fingerprint: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
    valid_at: Math.floor(Date.parse(cert.validFrom) / 1000),
    expires_at: Math.floor(Date.parse(cert.validTo) / 1000),
  }
}
