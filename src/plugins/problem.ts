// Renders every error as application/problem+json (RFC 9457): ProblemErrors
// from the catalogue, Fastify's own errors (validation, body size, media
// type), unknown routes (404) and known paths with the wrong method (405).
// 5xx bodies never carry internals; the request id ties them to the logs.
import fp from 'fastify-plugin'
import FindMyWay, { type HTTPMethod } from 'find-my-way'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Problems, ProblemError, isProblemError, type FieldProblem } from '../errors.ts'
import { patternMessage } from '../schemas/names.ts'
import { loggableError } from './error-log.ts'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

export interface ProblemBody {
  type: string
  title: string
  status: number
  detail: string
  requestId: string
  errors?: FieldProblem[]
  [key: string]: unknown
}

/** The JSON body for a problem; extras become members except transport-only ones. */
export function problemBody (err: ProblemError, requestId: string): ProblemBody {
  const { headers, retryAfter, errors, ...rest } = err.extras
  const body: ProblemBody = { type: err.type, title: err.title, status: err.status, detail: err.detail, requestId }
  if (errors && errors.length > 0) body.errors = errors
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) body[k] = v
  return body
}

export function sendProblem (reply: FastifyReply, err: ProblemError): FastifyReply {
  const headers: Record<string, string> = { ...err.extras.headers }
  if (err.extras.retryAfter !== undefined) headers['retry-after'] = String(err.extras.retryAfter)
  return reply.code(err.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(problemBody(err, reply.request.id))
}

interface AjvLikeError { instancePath?: string, message?: string, params?: Record<string, unknown>, keyword?: string, propertyName?: string }

/** `/body/capabilities/add/0`; for a missing property the property itself is named. */
function fieldPath (context: string, e: AjvLikeError): string {
  let path = `/${context}${e.instancePath ?? ''}`
  // propertyNames failures (e.g. a setImage key) name the offending key itself.
  const missing = e.params?.missingProperty ?? e.params?.additionalProperty ?? e.params?.propertyName ?? e.propertyName
  if (typeof missing === 'string') path += `/${missing}`
  return path
}

function validationMessage (e: AjvLikeError): string {
  if (e.keyword === 'additionalProperties' && typeof e.params?.additionalProperty === 'string') return 'unknown field'
  if (e.keyword === 'enum' && Array.isArray(e.params?.allowedValues)) return `must be one of: ${(e.params.allowedValues as unknown[]).join(', ')}`
  if (e.keyword === 'pattern') return patternMessage(e.params?.pattern) ?? e.message ?? 'is invalid'
  return e.message ?? 'is invalid'
}

/** Maps Fastify's built-in errors to catalogue problems. */
export function fromFastifyError (err: FastifyError): ProblemError {
  if (err.validation) {
    const context = err.validationContext ?? 'body'
    const errors = (err.validation as AjvLikeError[]).map(e => ({ field: fieldPath(context, e), message: validationMessage(e) }))
    const first = errors[0]
    return Problems.validation(first ? `${first.field}: ${first.message}` : 'The request is not valid.', { errors })
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return Problems.payloadTooLarge()
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return Problems.unsupportedMediaType()
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return Problems.badRequest('The request body is not valid JSON.', { errors: [{ field: '/body', message: 'invalid JSON' }] })
  }
  if (err instanceof SyntaxError) return Problems.badRequest('The request body is not valid JSON.', { errors: [{ field: '/body', message: 'invalid JSON' }] })
  const status = err.statusCode ?? 500
  if (status === 404) return Problems.notFound()
  if (status === 405) return Problems.methodNotAllowed()
  if (status === 406) return Problems.notAcceptable()
  if (status === 413) return Problems.payloadTooLarge()
  if (status === 415) return Problems.unsupportedMediaType()
  if (status >= 400 && status < 500) return new ProblemError('GW_BAD_REQUEST', status, 'Bad request', err.message)
  return Problems.internal(undefined, {}, { cause: err })
}

const ROUTER_METHODS: HTTPMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

async function problemPlugin (app: FastifyInstance): Promise<void> {
  // A second router holding just the route shapes, so an unmatched request
  // can be told apart: wrong method on a known path (405) or no such path (404).
  const shapes = FindMyWay({ ignoreTrailingSlash: false })
  const noop = () => {}
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const m of methods) {
      if (m === 'HEAD' || m === 'OPTIONS') continue
      if (!shapes.hasRoute(m as HTTPMethod, route.url)) shapes.on(m as HTTPMethod, route.url, noop)
    }
  })

  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const problem = isProblemError(error) ? error : fromFastifyError(error)
    if (problem.status >= 500) {
      // The problem and what caused it, with stacks (a ProblemError made in a catch carries the original as cause).
      const err = loggableError(problem)
      if (problem !== error && problem.cause === undefined) err.cause = loggableError(error)
      // A client that hung up aborts our upstream call; that is not a gateway failure. (Not
      // request.raw.destroyed: a request stream is destroyed as soon as its body has been read.)
      if (reply.raw.destroyed || request.raw.socket?.destroyed === true) request.log.debug({ err, problem: problem.code }, 'client went away')
      else request.log.error({ err, problem: problem.code, route: request.routeOptions.url, status: problem.status }, 'request failed')
    }
    // A refusal or failure without a record of its own gets one (src/plugins/decision-audit.ts), before the answer.
    if (app.hasDecorator('auditProblem')) await app.auditProblem(request, problem)
    return sendProblem(reply, problem)
  })

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/'
    const allowed = ROUTER_METHODS.filter(m => m !== request.method && shapes.find(m, path) !== null)
    if (allowed.length > 0) {
      return sendProblem(reply, Problems.methodNotAllowed(`${request.method} is not supported on ${path}; use ${allowed.join(', ')}.`, { headers: { allow: allowed.join(', ') } }))
    }
    return sendProblem(reply, Problems.routeNotFound(`No endpoint ${request.method} ${path}.`))
  })
}

export default fp(problemPlugin, { name: 'kdebug-problem', fastify: '5.x' })
