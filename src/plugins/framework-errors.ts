// Errors raised before a route runs, answered as application/problem+json
// with an x-request-id like every other error:
//  - Fastify's router (`frameworkErrors` option): malformed percent-encoding
//    in the path (FST_ERR_BAD_URL), a path parameter longer than
//    `maxParamLength` (FST_ERR_MAX_PARAM_LENGTH), async constraint failures.
//    onRequest hooks do not run for these, so the id header is set here.
//  - Node's HTTP parser (`clientError`, fastify.js defaultClientErrorHandler):
//    bad request lines or headers, headers over `maxHeaderSize`, request
//    timeouts. No request object exists yet, so a minimal response is written
//    on the socket and the connection is closed, as Node itself does
//    (lib/_http_server.js socketOnError).
//  - `urlLengthGuard`: a URL longer than MAX_URL_LENGTH is a 414 before any
//    routing or authentication work; `bodyDepthGuard`: bounded JSON nesting.
import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { Problems, type ProblemError } from '../errors.ts'
import { DNS1123_SUBDOMAIN_MAX } from '../schemas/names.ts'
import { exceedsDepth } from '../lib/depth.ts'
import { PROBLEM_CONTENT_TYPE, problemBody, sendProblem } from './problem.ts'
import { REQUEST_ID_HEADER } from './request-id.ts'

/**
 * Router `maxParamLength`: the longest valid path parameter is a pod or node
 * name (DNS-1123 subdomain). find-my-way's default (100) would refuse valid
 * pod names of 101–253 characters.
 */
export const MAX_PARAM_LENGTH = DNS1123_SUBDOMAIN_MAX

/** Longest accepted request target (path + query): a stream ticket (≤ 8 KiB) plus the other parameters. */
export const MAX_URL_LENGTH = 12 * 1024

export function frameworkProblem (err: FastifyError): ProblemError {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return Problems.badRequest('The request path is not valid: malformed percent-encoding.', { errors: [{ field: '/url', message: 'malformed percent-encoding' }] })
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return Problems.uriTooLong(`A path parameter is longer than ${MAX_PARAM_LENGTH} characters.`, { errors: [{ field: '/url', message: `path parameters are at most ${MAX_PARAM_LENGTH} characters` }] })
    default:
      return Problems.badRequest('The request cannot be routed.')
  }
}

/** Fastify `frameworkErrors` option. */
export function frameworkErrorHandler (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header(REQUEST_ID_HEADER, request.id)
  return sendProblem(reply, frameworkProblem(err))
}

/** onRequest hook: 414 for an over-long URL. */
export async function urlLengthGuard (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.raw.url === undefined || request.raw.url.length <= MAX_URL_LENGTH) return undefined
  // Returning the sent reply ends the hook chain (no auth, no route).
  return sendProblem(reply, Problems.uriTooLong(`The request URL is longer than ${MAX_URL_LENGTH} characters.`, { errors: [{ field: '/url', message: `at most ${MAX_URL_LENGTH} characters` }] }))
}

/** Deeper than any body the gateway accepts (custom: ≤ 8 levels under /body/custom). */
export const MAX_BODY_DEPTH = 32

/**
 * preValidation hook: a JSON body nested deeper than MAX_BODY_DEPTH is a 400
 * before schema validation, so no validator, hash or merge recurses into it.
 */
export async function bodyDepthGuard (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (!exceedsDepth(request.body, MAX_BODY_DEPTH)) return undefined
  return sendProblem(reply, Problems.validation(`/body: nested deeper than ${MAX_BODY_DEPTH} levels.`, { errors: [{ field: '/body', message: `nested deeper than ${MAX_BODY_DEPTH} levels` }] }))
}

function clientProblem (err: NodeJS.ErrnoException): ProblemError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return Problems.requestTimeout()
  if (err.code === 'HPE_HEADER_OVERFLOW') return Problems.headersTooLarge('The request line and headers exceed the server\'s limit.')
  if (err.code === 'HPE_URI_TOO_LONG') return Problems.uriTooLong()
  return Problems.badRequest('The HTTP request is malformed.')
}

/** Fastify `clientErrorHandler`: the raw HTTP response Node's parser errors get. */
export function clientErrorHandler (err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  if (socket.writable) {
    const id = randomUUID()
    const problem = clientProblem(err)
    const body = JSON.stringify(problemBody(problem, id))
    socket.write(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `${REQUEST_ID_HEADER}: ${id}\r\n` +
      'Connection: close\r\n\r\n' + body)
  }
  socket.destroy(err)
}
