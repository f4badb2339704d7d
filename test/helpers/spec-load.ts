import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import YAML from 'yaml'
import { convertSchema } from './spec-convert.js'
import { SPEC_FILES, specFile } from './spec-files.js'

/**
 * Reads a spec file and converts it for Ajv: component schemas, plus each operation's response
 * schemas by status and content type, its parameters and its request body (the fuzz test builds
 * requests from them). The result is cached under the OS temp dir, keyed by the
 * spec and converter sources: parsing the 1.4 MB YAML takes ~1.5 s, and every e2e test file
 * runs in its own process.
 */

/** 'v2' is the current spec; 'v1' the 2024-04-15 file, for `OpenAI-Beta: assistants=v1`. */
export type SpecVersion = 'v1' | 'v2'

export type OperationEntry = {
  method: string
  path: string
  /** status ('200', 'default') → content type → converted schema */
  responses: Record<string, Record<string, unknown>>
  /** path, query and header parameters (the path item's and the operation's), schemas converted */
  parameters: ParameterEntry[]
  /** content type → converted schema; absent when the operation takes no body */
  requestBody?: { required: boolean; content: Record<string, unknown> }
}

export type ParameterEntry = {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required: boolean
  schema: unknown
}

export type SpecDocument = {
  $id: string
  components: { schemas: Record<string, unknown> }
  operations: Record<string, OperationEntry>
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

export function readSpecDocument(version: SpecVersion): SpecDocument {
  const file = specFile(SPEC_FILES[version])
  const text = fs.readFileSync(file, 'utf8')
  const hash = crypto.createHash('sha1').update(version).update(text)
  // a change to the conversion code must not be hidden by an old cache entry
  for (const source of ['spec-convert.ts', 'spec-load.ts']) {
    hash.update(fs.readFileSync(path.join(import.meta.dirname, source), 'utf8'))
  }
  const key = hash.digest('hex')
  const cacheFile = path.join(os.tmpdir(), 'plinth-spec-cache', `${version}-${key}.json`)
  try {
    return JSON.parse(fs.readFileSync(cacheFile, 'utf8'))
  } catch {
    // not cached yet
  }
  const converted = convertDocument(YAML.parse(text), `openai-${version}.json`)
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true })
  const tmp = `${cacheFile}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(converted))
  fs.renameSync(tmp, cacheFile) // atomic: parallel test processes may race to write it
  return converted
}

function convertDocument(openapi: any, $id: string): SpecDocument {
  const schemas: Record<string, unknown> = {}
  for (const [name, schema] of Object.entries(openapi.components?.schemas ?? {}))
    schemas[name] = convertSchema(schema, $id, name)
  const operations: Record<string, OperationEntry> = {}
  for (const [p, item] of Object.entries<any>(openapi.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method]
      if (!op?.operationId) continue
      const responses: OperationEntry['responses'] = {}
      for (const [status, response] of Object.entries<any>(op.responses ?? {})) {
        const content = response.$ref
          ? resolvePointer(openapi, response.$ref).content
          : response.content
        responses[status] = Object.fromEntries(
          Object.entries<any>(content ?? {}).map(([type, c]) => [
            type,
            convertSchema(c.schema ?? {}, $id),
          ]),
        )
      }
      const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])]
        .map((param: any) => (param.$ref ? resolvePointer(openapi, param.$ref) : param))
        .map((param: any) => ({
          name: param.name,
          in: param.in,
          required: param.required === true,
          schema: convertSchema(param.schema ?? {}, $id),
        }))
      const body = op.requestBody?.$ref
        ? resolvePointer(openapi, op.requestBody.$ref)
        : op.requestBody
      const requestBody = body && {
        required: body.required === true,
        content: Object.fromEntries(
          Object.entries<any>(body.content ?? {}).map(([type, c]) => [
            type,
            convertSchema(c.schema ?? {}, $id),
          ]),
        ),
      }
      operations[op.operationId] = {
        method: method.toUpperCase(),
        path: p,
        responses,
        parameters,
        ...(requestBody && { requestBody }),
      }
    }
  }
  return { $id, components: { schemas }, operations }
}

function resolvePointer(doc: any, ref: string): any {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((node, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc)
}
