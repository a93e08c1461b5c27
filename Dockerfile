# syntax=docker/dockerfile:1
# Build stage: full dependencies, TypeScript → dist/.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the package's prepare script is the build, which needs the
# sources copied below (it runs there). The image's Node 24 runs it; the `node`
# devDependency only brings Node 24 to machines that lack it.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# The web console (/ui/, off unless ui.enabled): bundled here, served from ui/dist; no CDN at run time.
COPY ui ./ui
RUN npm run build:ui

# Runtime dependencies only (no TypeScript, no Node-24 shim, no test tools).
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM node:24-slim AS runtime
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/ui/dist ./ui/dist
COPY package.json ./
# The audit log lives on a mounted volume (the root filesystem is read-only in deploy/).
ENV KDEBUG_AUDIT_FILE=/var/lib/kdebug/audit.log
# Numeric UID of the image's `node` user, so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080
# Exec form, node as PID 1: SIGTERM reaches the process and close-with-grace drains it.
CMD ["node", "dist/main.js"]
