# syntax=docker/dockerfile:1
# Gatehouse server image (docs/deployment.md). Two stages: the build stage compiles with the
# development tools and lays out the production tree with the same scripts the built-server
# tests run (scripts/build.mjs, scripts/production-install.mjs); the runtime stage holds only
# that tree, production dependencies and tini. No secret is baked in: all configuration is the
# environment at run time.
ARG NODE_VERSION=24.22.3

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY extension/package.json extension/
COPY e2e/package.json e2e/
RUN npm ci --workspace=server --workspace=shared --include-workspace-root --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY shared/ shared/
COPY server/ server/
COPY scripts/build.mjs scripts/production-install.mjs scripts/
RUN node scripts/build.mjs && node scripts/production-install.mjs /app

FROM node:${NODE_VERSION}-bookworm-slim
# tini as PID 1: it forwards SIGTERM to the server (which drains and closes its stores) and
# reaps what it must.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# Owned by root and not writable by the server's user: the root filesystem can be read-only.
COPY --from=build /app /app
# 1000 is the `node` user of the official image, numeric so Kubernetes runAsNonRoot can check it.
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "server/dist/main.js"]
